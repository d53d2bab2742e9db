use async_graphql::{Context, ErrorExtensions, Object, Result};

use aduan_domain::access::Operation;
use aduan_domain::tracking::{self, TrackingKey};
use aduan_domain::{Actor, Command, Role};
use aduan_projections::ComplaintView;
use aduan_store::{CommandBus, CommandOutcome, CommandRequest, RequestContext};

use super::access::guard;
use super::attachments::with_files;
use super::context::{bus, correlation_id, ClientKey};
use super::error::{command_error, invalid_input};
use super::inputs::*;
use super::template_use::render_into;
use super::types::Complaint;
use crate::error_code::ClientCode;
use crate::rate_limit::SubmitLimiter;
use aduan_domain::templates::TemplateUse;

#[derive(Default)]
pub struct ComplaintMutation;

/// Longest accepted idempotency key or complaint id.
const MAX_ID: usize = 100;

pub(super) fn checked_id<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    if value.trim().is_empty() || value.len() > MAX_ID || value.chars().any(char::is_control) {
        return Err(invalid_input(
            field,
            "must be 1 to 100 printable characters",
        ));
    }
    Ok(value)
}

/// Citizens' submissions are rate-limited: per account when signed in, per
/// client address without a token (the city's own staff, who submit for callers
/// and walk-ins, are not). RATE_LIMITED carries `retryAfterSeconds`; the HTTP
/// response says `Retry-After` (see router.rs).
fn limit_submissions(ctx: &Context<'_>, actor: &Actor) -> Result<()> {
    let key = match actor.role {
        Role::Citizen => format!("account:{}", actor.id),
        Role::Public => match ctx.data_opt::<ClientKey>() {
            Some(ClientKey(client)) => format!("client:{client}"),
            None => "client:unknown".to_string(),
        },
        _ => return Ok(()),
    };
    let Ok(limiter) = ctx.data::<SubmitLimiter>() else {
        return Ok(());
    };
    limiter.check(&key).map_err(|wait| {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        async_graphql::Error::new(format!(
            "too many submissions from this account; retry in {seconds} s"
        ))
        .extend_with(|_, ext| {
            ClientCode::RateLimited.set(ext);
            ext.set("retryAfterSeconds", seconds);
        })
    })
}

pub(super) async fn execute(
    ctx: &Context<'_>,
    complaint_id: String,
    command_id: Option<String>,
    expected_version: Option<i64>,
    command: Command,
) -> Result<Complaint> {
    let actor = command.actor.clone();
    let outcome = run(ctx, complaint_id, command_id, expected_version, command).await?;
    let view = ComplaintView {
        case: outcome.case,
        version: outcome.version,
        position: outcome.position,
    };
    Ok(Complaint::from_view(view, &actor))
}

/// Carries out a command through the bus, with its metrics.
pub(super) async fn run(
    ctx: &Context<'_>,
    complaint_id: String,
    command_id: Option<String>,
    expected_version: Option<i64>,
    command: Command,
) -> Result<CommandOutcome> {
    checked_id("complaintId", &complaint_id)?;
    if let Some(id) = &command_id {
        checked_id("commandId", id)?;
    }
    let request = CommandRequest {
        complaint_id,
        command,
        context: RequestContext {
            channel: "graphql".into(),
            correlation_id: correlation_id(ctx),
        },
        command_id,
        expected_version,
    };
    let bus = bus(ctx)?;
    let started = std::time::Instant::now();
    let executed = bus.execute(request).await;
    crate::metrics::record_command(
        ctx.field().name(),
        executed.as_ref().map(|_| ()).map_err(ClientCode::from),
        started.elapsed(),
        executed.as_ref().ok().map(|o| u64::from(o.round_trips)),
    );
    executed.map_err(command_error)
}

async fn targeted<I: TargetedInput>(ctx: &Context<'_>, input: I) -> Result<Complaint> {
    act(ctx, input, None).await
}

/// As `targeted`, for the commands whose text a response template may write:
/// the template is rendered into the text first (see `template_use`).
async fn templated<I: TargetedInput + Templated>(
    ctx: &Context<'_>,
    mut input: I,
) -> Result<Complaint> {
    let (actor, _) = guard(ctx, I::OPERATION)?;
    let complaint_id = input.target().complaint_id.clone();
    checked_id("complaintId", &complaint_id)?;
    let used = render_into(ctx, &actor, &complaint_id, &mut input).await?;
    act(ctx, input, used).await
}

async fn act<I: TargetedInput>(
    ctx: &Context<'_>,
    mut input: I,
    template: Option<TemplateUse>,
) -> Result<Complaint> {
    let Target {
        complaint_id,
        command_id,
        expected_version,
    } = input.target().clone();
    let files = input.take_files();
    let (actor, _) = guard(ctx, I::OPERATION)?;
    checked_id("complaintId", &complaint_id)?;
    let mut action = input
        .into_action(&bus(ctx)?.services().reference)
        .map_err(|e| command_error(e.into()))?;
    if let Some(used) = template {
        action.set_template(used);
    }
    let command = with_files(ctx, &complaint_id, Command::new(actor, action), files).await?;
    execute(ctx, complaint_id.0, command_id, expected_version, command).await
}

/// Every mutation takes one `input`, accepts an optional `commandId` (idempotency
/// key) and returns the complaint's new state.
#[Object]
impl ComplaintMutation {
    /// A report arrives (citizen app, call center, walk-in, or another system).
    /// Needs no token. The response's `trackingCode` lets whoever holds it follow
    /// the case (`trackedComplaint`) and rate it; retrying with the same
    /// `commandId` returns the same code. Callers without a token should use an
    /// unguessable `commandId` (a random UUID), as it is all a retry needs.
    async fn submit_complaint(
        &self,
        ctx: &Context<'_>,
        mut input: SubmitComplaintInput,
    ) -> Result<Complaint> {
        let (actor, _) = guard(ctx, Operation::Submit)?;
        let command_id = input.command_id.clone();
        if let Some(id) = &command_id {
            checked_id("commandId", id)?;
        }
        limit_submissions(ctx, &actor)?;
        let complaint_id = CommandBus::new_complaint_id(command_id.as_deref());
        let code = ctx
            .data_opt::<TrackingKey>()
            .and_then(|key| key.code_for(&complaint_id));
        let files = std::mem::take(&mut input.files);
        let reference = &bus(ctx)?.services().reference;
        let action = input
            .into_action(
                reference,
                complaint_id.clone(),
                code.as_deref().map(tracking::hash),
            )
            .map_err(|e| command_error(e.into()))?;
        let command = with_files(ctx, &complaint_id, Command::new(actor, action), files).await?;
        let mut complaint = execute(ctx, complaint_id, command_id, None, command).await?;
        complaint.tracking_code = code;
        Ok(complaint)
    }

    /// The Command Center accepts a report.
    async fn verify_complaint(
        &self,
        ctx: &Context<'_>,
        input: VerifyComplaintInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// The Command Center corrects where a case is (kecamatan, kelurahan,
    /// coordinates, address) while it is open, or places an imported one.
    async fn correct_location(
        &self,
        ctx: &Context<'_>,
        input: CorrectLocationInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// Marks the case a duplicate of an incident's primary (reversible: see
    /// `unlinkDuplicate`). Its reporter then follows the primary's progress,
    /// its SLA clocks are suspended, and it is closed when the primary closes.
    /// Refused when the primary is itself a duplicate, is closed, or when cases
    /// are already linked to this one (move them first).
    async fn link_duplicate(
        &self,
        ctx: &Context<'_>,
        input: LinkDuplicateInput,
    ) -> Result<Complaint> {
        super::links::link(ctx, input).await
    }

    /// Undoes a link: the case gets back the status it had and its clocks run
    /// again from where they were suspended.
    async fn unlink_duplicate(
        &self,
        ctx: &Context<'_>,
        input: UnlinkDuplicateInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// The Command Center refuses a report (spam, out of scope, ...).
    async fn reject_complaint(
        &self,
        ctx: &Context<'_>,
        input: RejectComplaintInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// Dispatch to an OPD (Command Center), or to an officer (the OPD's admin).
    async fn assign_complaint(
        &self,
        ctx: &Context<'_>,
        input: AssignComplaintInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// Move the case to another OPD, with a reason code (see `handoffReasons`).
    /// A transfer that closes a loop (back to an OPD the case left) or goes
    /// over the city's hand-off limit escalates the case in the same step.
    async fn transfer_complaint(
        &self,
        ctx: &Context<'_>,
        input: TransferComplaintInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// The OPD holding the case gives it back to the Command Center's
    /// dispatch queue (VERIFIED, no OPD), with a reason code, rather than
    /// guessing another OPD.
    async fn return_to_command_center(
        &self,
        ctx: &Context<'_>,
        input: ReturnToCommandCenterInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// A reply the citizen sees; the first one stops the response clock.
    async fn respond_to_complaint(
        &self,
        ctx: &Context<'_>,
        input: RespondToComplaintInput,
    ) -> Result<Complaint> {
        templated(ctx, input).await
    }

    /// Ask the citizen for more information; SLA clocks pause until they answer.
    async fn request_info(&self, ctx: &Context<'_>, input: RequestInfoInput) -> Result<Complaint> {
        templated(ctx, input).await
    }

    /// The citizen's answer (or an agent recording it from a call).
    async fn provide_info(&self, ctx: &Context<'_>, input: ProvideInfoInput) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// An officer handled the case on site.
    async fn record_field_handling(
        &self,
        ctx: &Context<'_>,
        input: RecordFieldHandlingInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// Raise the case one escalation level.
    async fn escalate_complaint(
        &self,
        ctx: &Context<'_>,
        input: EscalateComplaintInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    async fn close_complaint(
        &self,
        ctx: &Context<'_>,
        input: CloseComplaintInput,
    ) -> Result<Complaint> {
        templated(ctx, input).await
    }

    /// The citizen disputes a closure, within the reopen window.
    async fn reopen_complaint(
        &self,
        ctx: &Context<'_>,
        input: ReopenComplaintInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// A note on the case (a call, a finding, a hand-over), at any stage, closed
    /// cases included; it changes nothing else. INTERNAL notes are seen by city
    /// staff only, PUBLIC ones also by the citizen and on the tracking-code view.
    async fn add_note(&self, ctx: &Context<'_>, input: AddNoteInput) -> Result<Complaint> {
        templated(ctx, input).await
    }

    /// The reporter's satisfaction (1-5), once per closure.
    async fn rate_complaint(
        &self,
        ctx: &Context<'_>,
        input: RateComplaintInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// The reporter's answers to the satisfaction survey of the national
    /// method (IKM, PermenPANRB 14/2017): nine elements, each 1-4, on a closed
    /// case, once per case (a second answer is INVALID_TRANSITION, also after
    /// a reopening). By account or with the tracking code.
    async fn answer_survey(
        &self,
        ctx: &Context<'_>,
        input: AnswerSurveyInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }

    /// Stops the e-mail, SMS and WhatsApp notifications about one case
    /// (docs/notifications.md), from now on, for good. By the reporter
    /// (account or tracking code), or by the Command Center on the
    /// reporter's word. A second time is INVALID_TRANSITION.
    async fn opt_out_of_notifications(
        &self,
        ctx: &Context<'_>,
        input: OptOutOfNotificationsInput,
    ) -> Result<Complaint> {
        targeted(ctx, input).await
    }
}
