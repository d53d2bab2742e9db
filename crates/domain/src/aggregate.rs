use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::access::{self, Operation};
use crate::actor::{Actor, Role};
use crate::commands::*;
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::rules::ComplaintServices;
use crate::sla::Leg;
use crate::validate::{self, MAX_CODE, MAX_SHORT, MAX_TEXT, MAX_TITLE};
use crate::values::*;

/// The complaint aggregate: `None` until a report is submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Complaint(pub Option<Case>);

/// A case's current state, folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub status: Status,
    pub channel: Channel,
    pub category: String,
    pub priority: Priority,
    pub title: String,
    pub description: String,
    pub location: Location,
    pub reporter: Option<Reporter>,
    pub anonymous: bool,
    pub attachments: Vec<String>,
    pub external_ref: Option<String>,
    pub opd: Option<String>,
    pub officer_id: Option<String>,
    pub escalation_level: u32,
    /// Where a case goes back to when the citizen answers a request for information.
    pub resume_status: Option<Status>,
    pub resolution: Option<Resolution>,
    pub duplicate_of: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_count: u32,
    pub reopen_count: u32,
    /// The closure (by count) the citizen has rated, so each closure is rated once.
    pub rated_closure: Option<u32>,
    pub rating: Option<u8>,
    /// SLA breaches already recorded, so each is recorded once.
    #[serde(default)]
    pub recorded_breaches: Vec<(Leg, DateTime<Utc>)>,
    /// The hash of the case's tracking code (see `tracking`).
    #[serde(default)]
    pub tracking_code_hash: Option<String>,
    /// The reporter's personal data was erased (`ReporterDataErased`): the
    /// fields read as `erasure::ERASED`.
    #[serde(default)]
    pub personal_data_erased: bool,
    /// Whether the citizen has answered the satisfaction survey (once per case).
    #[serde(default)]
    pub survey_answered: bool,
    /// The reporter wants no more notifications about this case.
    #[serde(default)]
    pub notifications_opted_out: bool,
}

impl Case {
    /// The reference the case's reporter is erased by (see `erasure::reporter_ref`).
    pub fn reporter_ref(&self) -> String {
        crate::erasure::reporter_ref(&self.id, self.reporter.as_ref())
    }

    /// The signed-in citizen who reported this case, if any.
    pub fn is_reporter(&self, actor: &Actor) -> bool {
        actor.role == Role::Citizen
            && self
                .reporter
                .as_ref()
                .and_then(|r| r.subject.as_deref())
                .is_some_and(|s| s == actor.id)
    }
}

impl Aggregate for Complaint {
    const TYPE: &'static str = "Complaint";
    type Command = Command;
    type Event = ComplaintEvent;
    type Error = ComplaintError;
    type Services = ComplaintServices;

    async fn handle(
        &mut self,
        command: Command,
        services: &ComplaintServices,
        sink: &EventSink<Self>,
    ) -> Result<(), ComplaintError> {
        for event in self.decide_all(command, services)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: ComplaintEvent) {
        let at = event.occurred_at();
        if let ComplaintEvent::Submitted { .. } = event {
            self.0 = Some(Case::submitted(event));
            return;
        }
        let Some(case) = self.0.as_mut() else {
            return;
        };
        // A note is recorded beside the case and changes none of it, not even
        // `updated_at`: an INTERNAL note must leave no trace where the citizen
        // or the tracking-code view looks.
        if let ComplaintEvent::NoteAdded { .. } | ComplaintEvent::AttachmentAdded { .. } = event {
            return;
        }
        // Nor does an erasure move `updated_at`: dashboards, lists and SLA
        // figures stay exactly as they were.
        if let ComplaintEvent::ReporterDataErased { .. }
        | ComplaintEvent::NotificationsOptedOut { .. } = event
        {
            case.fold(event);
            return;
        }
        case.updated_at = at;
        case.fold(event);
    }
}

impl Complaint {
    /// Decide the events a command produces: its action's, then one
    /// `AttachmentAdded` per file it carries; or why none may happen.
    pub fn decide_all(
        &self,
        command: Command,
        services: &ComplaintServices,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        let Command {
            actor,
            action,
            files,
        } = command;
        let main = self.decide(Command::new(actor.clone(), action), services)?;
        if files.is_empty() {
            return Ok(vec![main]);
        }
        if !main.carries_files() {
            return Err(ComplaintError::invalid(
                "files",
                "files go with a submission, provideInfo, respondToComplaint, \
                 recordFieldHandling, closeComplaint or addNote; else use addAttachment",
            ));
        }
        if files.len() > validate::MAX_ATTACHMENTS {
            return Err(ComplaintError::invalid(
                "files",
                format!("at most {} files per command", validate::MAX_ATTACHMENTS),
            ));
        }
        let reporter = matches!(actor.role, Role::Citizen | Role::Public);
        let now = services.clock.now();
        let mut events = vec![main];
        for file in files {
            if reporter && file.visibility == NoteVisibility::Internal {
                return Err(internal_by_reporter());
            }
            events.push(ComplaintEvent::AttachmentAdded {
                file: validate::attachment(file)?,
                occurred_at: now,
            });
        }
        Ok(events)
    }

    /// Decide the event a command's action produces, or why it may not happen
    /// (the command's files are `decide_all`'s).
    pub fn decide(
        &self,
        command: Command,
        services: &ComplaintServices,
    ) -> Result<ComplaintEvent, ComplaintError> {
        let Command { actor, action, .. } = command;
        let now = services.clock.now();
        match (&self.0, action) {
            (None, Action::Submit(submit)) => decide_submit(&actor, submit, services, now),
            (Some(_), Action::Submit(_)) => Err(ComplaintError::AlreadyExists),
            (None, _) => Err(ComplaintError::NotFound),
            (Some(case), action) => case.decide(&actor, action, services, now),
        }
    }
}

fn internal_by_reporter() -> ComplaintError {
    ComplaintError::invalid(
        "visibility",
        "only city staff may file INTERNAL attachments",
    )
}

fn decide_submit(
    actor: &Actor,
    s: Submit,
    services: &ComplaintServices,
    now: DateTime<Utc>,
) -> Result<ComplaintEvent, ComplaintError> {
    let reference = &services.reference;
    if access::access(actor.role, Operation::Submit) != access::Access::Allowed {
        return Err(ComplaintError::forbidden(format!(
            "{} may not submit complaints",
            actor.role
        )));
    }
    let reporter = match (actor.role, s.reporter) {
        // A signed-in citizen is always linked to their own report.
        (Role::Citizen, r) => Some(Reporter {
            subject: Some(actor.id.clone()),
            ..r.unwrap_or(Reporter {
                subject: None,
                name: None,
                phone: None,
                email: None,
            })
        }),
        // Only a citizen's own token links a case to a citizen account.
        (_, r) => r.map(|r| Reporter { subject: None, ..r }),
    };
    Ok(ComplaintEvent::Submitted {
        complaint_id: validate::required("complaintId", &s.complaint_id, MAX_CODE)?,
        channel: s.channel,
        category: validate::category(reference, &s.category)?,
        priority: s.priority.unwrap_or(Priority::Normal),
        title: validate::required("title", &s.title, MAX_TITLE)?,
        description: validate::required("description", &s.description, MAX_TEXT)?,
        location: validate::location(reference, &s.location)?,
        reporter: reporter.as_ref().map(validate::reporter).transpose()?,
        anonymous: s.anonymous,
        attachments: validate::urls("attachments", &s.attachments)?,
        external_ref: validate::optional("externalRef", s.external_ref.as_deref(), MAX_CODE)?,
        tracking_code_hash: s.tracking_code_hash,
        occurred_at: now,
    })
}

impl Case {
    fn submitted(event: ComplaintEvent) -> Case {
        let ComplaintEvent::Submitted {
            complaint_id,
            channel,
            category,
            priority,
            title,
            description,
            location,
            reporter,
            anonymous,
            attachments,
            external_ref,
            tracking_code_hash,
            occurred_at,
        } = event
        else {
            unreachable!("Case::submitted is only called with Submitted")
        };
        Case {
            id: complaint_id,
            status: Status::Submitted,
            channel,
            category,
            priority,
            title,
            description,
            location,
            reporter,
            anonymous,
            attachments,
            external_ref,
            opd: None,
            officer_id: None,
            escalation_level: 0,
            resume_status: None,
            resolution: None,
            duplicate_of: None,
            created_at: occurred_at,
            updated_at: occurred_at,
            verified_at: None,
            assigned_at: None,
            first_response_at: None,
            closed_at: None,
            closure_count: 0,
            reopen_count: 0,
            rated_closure: None,
            rating: None,
            recorded_breaches: Vec::new(),
            tracking_code_hash,
            personal_data_erased: false,
            survey_answered: false,
            notifications_opted_out: false,
        }
    }

    fn fold(&mut self, event: ComplaintEvent) {
        match event {
            ComplaintEvent::Submitted { .. } => {}
            ComplaintEvent::Verified {
                priority,
                category,
                occurred_at,
                ..
            } => {
                self.status = Status::Verified;
                self.priority = priority;
                self.category = category;
                self.verified_at = Some(occurred_at);
            }
            ComplaintEvent::Rejected { .. } => self.status = Status::Rejected,
            ComplaintEvent::Assigned {
                opd,
                officer_id,
                occurred_at,
                ..
            } => {
                if self.opd.as_deref() != Some(opd.as_str()) {
                    self.assigned_at = Some(occurred_at);
                }
                if self.status == Status::Verified {
                    self.status = Status::Assigned;
                }
                self.opd = Some(opd);
                self.officer_id = officer_id;
            }
            ComplaintEvent::Transferred {
                to_opd,
                occurred_at,
                ..
            } => {
                self.status = Status::Assigned;
                self.opd = Some(to_opd);
                self.officer_id = None;
                self.assigned_at = Some(occurred_at);
            }
            ComplaintEvent::Responded { occurred_at, .. } => {
                self.status = Status::InProgress;
                self.first_response_at.get_or_insert(occurred_at);
            }
            ComplaintEvent::InfoRequested { .. } => {
                self.resume_status = Some(self.status);
                self.status = Status::WaitingForInfo;
            }
            ComplaintEvent::InfoProvided { .. } => {
                self.status = self.resume_status.take().unwrap_or(Status::Submitted);
            }
            ComplaintEvent::FieldHandled { .. } => self.status = Status::InProgress,
            ComplaintEvent::Escalated { level, .. } => self.escalation_level = level,
            ComplaintEvent::Closed {
                resolution,
                duplicate_of,
                occurred_at,
                ..
            } => {
                self.status = Status::Closed;
                self.resolution = Some(resolution);
                self.duplicate_of = duplicate_of;
                self.closed_at = Some(occurred_at);
                self.closure_count += 1;
                self.resume_status = None;
            }
            ComplaintEvent::Reopened { .. } => {
                self.status = if self.opd.is_some() {
                    Status::Assigned
                } else {
                    Status::Submitted
                };
                self.resolution = None;
                self.duplicate_of = None;
                self.closed_at = None;
                self.reopen_count += 1;
            }
            ComplaintEvent::Rated { score, .. } => {
                self.rated_closure = Some(self.closure_count);
                self.rating = Some(score);
            }
            ComplaintEvent::SlaBreached {
                leg,
                deadline,
                level,
                ..
            } => {
                self.escalation_level = level;
                self.recorded_breaches.push((leg, deadline));
            }
            ComplaintEvent::AutoClosed { occurred_at, .. } => {
                self.status = Status::Closed;
                self.resolution = Some(Resolution::NotResolved);
                self.closed_at = Some(occurred_at);
                self.closure_count += 1;
                self.resume_status = None;
            }
            // Changes nothing (see `apply`).
            ComplaintEvent::NoteAdded { .. } | ComplaintEvent::AttachmentAdded { .. } => {}
            // The fields read as erased from the log once the keys are gone;
            // the folded state (in caches and projections) forgets them now,
            // with the same marker, so a rebuild gives the same rows.
            ComplaintEvent::ReporterDataErased { .. } => self.forget_personal_data(),
            ComplaintEvent::SurveyAnswered { .. } => self.survey_answered = true,
            ComplaintEvent::NotificationsOptedOut { .. } => self.notifications_opted_out = true,
        }
    }

    /// Every personal field of the case as an erased one reads.
    fn forget_personal_data(&mut self) {
        let erased = || crate::erasure::ERASED.to_string();
        self.title = erased();
        self.description = erased();
        if self.location.address.is_some() {
            self.location.address = Some(erased());
        }
        if let Some(r) = self.reporter.as_mut() {
            for field in [&mut r.name, &mut r.phone, &mut r.email] {
                if field.is_some() {
                    *field = Some(erased());
                }
            }
        }
        self.personal_data_erased = true;
    }

    fn decide(
        &self,
        actor: &Actor,
        action: Action,
        services: &ComplaintServices,
        now: DateTime<Utc>,
    ) -> Result<ComplaintEvent, ComplaintError> {
        let verb = action.verb();
        let reference = &services.reference;
        let status = self.status;
        let transition = || ComplaintError::InvalidTransition {
            action: verb.to_string(),
            status,
        };
        let command_center = actor.role.is_command_center();
        let own_opd = actor.works_for(self.opd.as_deref());
        let may = |op| access::permits(actor, op, self, None);
        match action {
            Action::Submit(_) => Err(ComplaintError::AlreadyExists),
            Action::Verify(v) => {
                self.allow(actor, may(Operation::Verify), verb)?;
                if status != Status::Submitted {
                    return Err(transition());
                }
                let category = match v.category {
                    Some(c) => validate::category(reference, &c)?,
                    None => self.category.clone(),
                };
                Ok(ComplaintEvent::Verified {
                    priority: v.priority.unwrap_or(self.priority),
                    category,
                    note: validate::optional("note", v.note.as_deref(), MAX_TEXT)?,
                    occurred_at: now,
                })
            }
            Action::Reject(r) => {
                self.allow(actor, may(Operation::Reject), verb)?;
                if !matches!(status, Status::Submitted | Status::Verified) {
                    return Err(transition());
                }
                Ok(ComplaintEvent::Rejected {
                    reason: r.reason,
                    note: validate::optional("note", r.note.as_deref(), MAX_TEXT)?,
                    occurred_at: now,
                })
            }
            Action::Assign(a) => self.decide_assign(actor, a, services, now),
            Action::RecordBreach(b) => {
                self.allow(actor, actor.role == Role::System, verb)?;
                if !status.is_open() {
                    return Err(transition());
                }
                if b.deadline > now {
                    return Err(ComplaintError::invalid("deadline", "has not passed yet"));
                }
                if self.recorded_breaches.contains(&(b.leg, b.deadline)) {
                    return Err(ComplaintError::RuleViolated(
                        "this breach has already been recorded".into(),
                    ));
                }
                Ok(ComplaintEvent::SlaBreached {
                    leg: b.leg,
                    deadline: b.deadline,
                    level: self.escalation_level + 1,
                    occurred_at: now,
                })
            }
            Action::AutoClose(a) => {
                self.allow(actor, actor.role == Role::System, verb)?;
                if status != Status::WaitingForInfo {
                    return Err(transition());
                }
                Ok(ComplaintEvent::AutoClosed {
                    waiting_since: a.waiting_since,
                    reason: "the citizen did not answer the request for information in time".into(),
                    occurred_at: now,
                })
            }
            Action::Transfer(t) => {
                self.allow(actor, may(Operation::Transfer), verb)?;
                if !status.is_with_opd() {
                    return Err(transition());
                }
                let to_opd = validate::opd("toOpd", reference, &t.to_opd)?;
                let from_opd = self.opd.clone().unwrap_or_default();
                if to_opd == from_opd {
                    return Err(ComplaintError::invalid(
                        "toOpd",
                        "is the OPD the case is already with",
                    ));
                }
                Ok(ComplaintEvent::Transferred {
                    from_opd,
                    to_opd,
                    reason: validate::required("reason", &t.reason, MAX_TEXT)?,
                    occurred_at: now,
                })
            }
            Action::Respond(r) => {
                self.allow(actor, may(Operation::Respond), verb)?;
                if !status.is_with_opd() {
                    return Err(transition());
                }
                Ok(ComplaintEvent::Responded {
                    message: validate::required("message", &r.message, MAX_TEXT)?,
                    occurred_at: now,
                })
            }
            Action::RequestInfo(r) => {
                let before_dispatch = matches!(status, Status::Submitted | Status::Verified);
                // Who asks depends on the stage: the Command Center before
                // dispatch, the OPD holding the case after it.
                let stage = if before_dispatch {
                    command_center
                } else if status.is_with_opd() {
                    own_opd
                } else {
                    // Neither may ask now; say so as a transition, not a permission.
                    true
                };
                self.allow(actor, may(Operation::RequestInfo) && stage, verb)?;
                if !before_dispatch && !status.is_with_opd() {
                    return Err(transition());
                }
                Ok(ComplaintEvent::InfoRequested {
                    question: validate::required("question", &r.question, MAX_TEXT)?,
                    occurred_at: now,
                })
            }
            Action::ProvideInfo(p) => {
                self.allow(actor, may(Operation::ProvideInfo), verb)?;
                if status != Status::WaitingForInfo {
                    return Err(transition());
                }
                Ok(ComplaintEvent::InfoProvided {
                    answer: validate::required("answer", &p.answer, MAX_TEXT)?,
                    attachments: validate::urls("attachments", &p.attachments)?,
                    occurred_at: now,
                })
            }
            Action::RecordFieldHandling(f) => {
                self.allow(actor, may(Operation::RecordFieldHandling), verb)?;
                if !status.is_with_opd() {
                    return Err(transition());
                }
                if f.handled_at > now + services.rules.clock_skew {
                    return Err(ComplaintError::invalid("handledAt", "lies in the future"));
                }
                if f.handled_at + services.rules.clock_skew < self.created_at {
                    return Err(ComplaintError::invalid(
                        "handledAt",
                        "is before the complaint was submitted",
                    ));
                }
                Ok(ComplaintEvent::FieldHandled {
                    notes: validate::required("notes", &f.notes, MAX_TEXT)?,
                    handled_at: f.handled_at,
                    photos: validate::urls("photos", &f.photos)?,
                    occurred_at: now,
                })
            }
            Action::Escalate(e) => {
                self.allow(actor, may(Operation::Escalate), verb)?;
                if !status.is_open() {
                    return Err(transition());
                }
                Ok(ComplaintEvent::Escalated {
                    level: self.escalation_level + 1,
                    reason: validate::required("reason", &e.reason, MAX_SHORT)?,
                    occurred_at: now,
                })
            }
            Action::Close(c) => self.decide_close(actor, c, now),
            Action::AddNote(n) => self.decide_note(actor, n, now),
            Action::EraseReporterData(e) => {
                self.allow(actor, may(Operation::EraseReporterData), verb)?;
                let reason = validate::required("reason", &e.reason, MAX_TEXT)?;
                if self.personal_data_erased {
                    return Err(ComplaintError::RuleViolated(
                        "the reporter's personal data on this case is already erased".into(),
                    ));
                }
                Ok(ComplaintEvent::ReporterDataErased {
                    reporter_ref: self.reporter_ref(),
                    reason,
                    occurred_at: now,
                })
            }
            Action::AddAttachment(a) => self.decide_attachment(actor, a, now),
            Action::Reopen(r) => {
                self.allow(actor, may(Operation::Reopen), verb)?;
                if status != Status::Closed {
                    return Err(transition());
                }
                let closed_at = self.closed_at.unwrap_or(self.updated_at);
                if now - closed_at > services.rules.reopen_window {
                    return Err(ComplaintError::RuleViolated(format!(
                        "the reopen window of {} days after closing has passed",
                        services.rules.reopen_window.num_days()
                    )));
                }
                Ok(ComplaintEvent::Reopened {
                    reason: validate::required("reason", &r.reason, MAX_TEXT)?,
                    occurred_at: now,
                })
            }
            Action::AnswerSurvey(s) => self.decide_survey(actor, s, now),
            Action::OptOutOfNotifications(o) => self.decide_opt_out(actor, o, now),
            Action::Rate(r) => {
                let holder =
                    access::permits(actor, Operation::Rate, self, r.tracking_code.as_deref());
                self.allow(actor, holder, verb)?;
                if status != Status::Closed {
                    return Err(transition());
                }
                if self.rated_closure == Some(self.closure_count) {
                    return Err(ComplaintError::RuleViolated(
                        "this closure has already been rated".into(),
                    ));
                }
                let score = u8::try_from(r.score)
                    .ok()
                    .filter(|s| (1..=5).contains(s))
                    .ok_or_else(|| ComplaintError::invalid("score", "must be between 1 and 5"))?;
                Ok(ComplaintEvent::Rated {
                    score,
                    comment: validate::optional("comment", r.comment.as_deref(), MAX_TEXT)?,
                    occurred_at: now,
                })
            }
        }
    }

    fn decide_assign(
        &self,
        actor: &Actor,
        a: Assign,
        services: &ComplaintServices,
        now: DateTime<Utc>,
    ) -> Result<ComplaintEvent, ComplaintError> {
        // Dispatch: the Command Center sends a verified case to an OPD.
        // Disposition: the OPD's admin hands a case it holds to one of its officers.
        self.allow(
            actor,
            access::permits(actor, Operation::Assign, self, None),
            "assign",
        )?;
        let dispatch = !actor.role.is_opd_scoped();
        let status_ok = if dispatch {
            self.status == Status::Verified
        } else {
            self.status.is_with_opd()
        };
        if !status_ok {
            return Err(ComplaintError::InvalidTransition {
                action: "assign".into(),
                status: self.status,
            });
        }
        let opd = validate::opd("opd", &services.reference, &a.opd)?;
        let officer_id = validate::optional("officerId", a.officer_id.as_deref(), MAX_CODE)?;
        let note = validate::optional("note", a.note.as_deref(), MAX_TEXT)?;
        let event = ComplaintEvent::Assigned {
            opd: opd.clone(),
            officer_id: officer_id.clone(),
            note,
            occurred_at: now,
        };
        if dispatch {
            return Ok(event);
        }
        if Some(opd.as_str()) != self.opd.as_deref() {
            return Err(ComplaintError::forbidden(
                "an OPD admin assigns officers of their own OPD; use transferComplaint to move the case",
            ));
        }
        if officer_id.is_none() {
            return Err(ComplaintError::invalid(
                "officerId",
                "is required when an OPD assigns its officer",
            ));
        }
        Ok(event)
    }

    fn decide_close(
        &self,
        actor: &Actor,
        c: Close,
        now: DateTime<Utc>,
    ) -> Result<ComplaintEvent, ComplaintError> {
        let own_opd = actor.works_for(self.opd.as_deref());
        self.allow(
            actor,
            access::permits(actor, Operation::Close, self, None),
            "close",
        )?;
        let allowed_status = if own_opd {
            self.status.is_with_opd()
        } else {
            self.status.is_open()
        };
        if !allowed_status {
            return Err(ComplaintError::InvalidTransition {
                action: "close".into(),
                status: self.status,
            });
        }
        let duplicate_of = validate::optional("duplicateOf", c.duplicate_of.as_deref(), MAX_CODE)?;
        match (c.resolution, &duplicate_of) {
            (Resolution::Duplicate, None) => {
                return Err(ComplaintError::invalid(
                    "duplicateOf",
                    "is required for a DUPLICATE resolution",
                ))
            }
            (Resolution::Duplicate, Some(d)) if *d == self.id => {
                return Err(ComplaintError::invalid(
                    "duplicateOf",
                    "a complaint cannot duplicate itself",
                ))
            }
            (Resolution::Duplicate, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(ComplaintError::invalid(
                    "duplicateOf",
                    "is only for a DUPLICATE resolution",
                ))
            }
        }
        Ok(ComplaintEvent::Closed {
            resolution: c.resolution,
            summary: validate::required("summary", &c.summary, MAX_TEXT)?,
            duplicate_of,
            occurred_at: now,
        })
    }

    /// A note may be added at every stage, from submission on, closed and
    /// rejected cases included: notes record calls and work, which go on after
    /// a decision (a caller asking about a rejection, a visit after closing).
    /// Who may is the access table's `AddNote` row alone; an OPD role on a case
    /// not yet dispatched gets INVALID_TRANSITION, as for every other command.
    fn decide_note(
        &self,
        actor: &Actor,
        n: AddNote,
        now: DateTime<Utc>,
    ) -> Result<ComplaintEvent, ComplaintError> {
        self.allow(
            actor,
            access::permits(actor, Operation::AddNote, self, None),
            "add a note to",
        )?;
        Ok(ComplaintEvent::NoteAdded {
            text: validate::required("text", &n.text, MAX_TEXT)?,
            visibility: n.visibility,
            occurred_at: now,
        })
    }

    /// Files may be added at every stage, as notes may (evidence comes late,
    /// repair pictures after closing). Who may is the `AddAttachment` row, the
    /// citizen by account or tracking code; only staff may file INTERNAL ones.
    fn decide_attachment(
        &self,
        actor: &Actor,
        a: AddAttachment,
        now: DateTime<Utc>,
    ) -> Result<ComplaintEvent, ComplaintError> {
        let holder = access::permits(
            actor,
            Operation::AddAttachment,
            self,
            a.tracking_code.as_deref(),
        );
        self.allow(actor, holder, "attach a file to")?;
        let file = a.file;
        let staff = access::permits(actor, Operation::InternalNotes, self, None);
        if file.visibility == NoteVisibility::Internal && !staff {
            return Err(internal_by_reporter());
        }
        Ok(ComplaintEvent::AttachmentAdded {
            file: validate::attachment(file)?,
            occurred_at: now,
        })
    }

    /// The satisfaction survey (IKM): by the reporter (account or tracking
    /// code), on a closed case, once per case. A second answer is refused
    /// (INVALID_TRANSITION), also after a reopening and a new closing: the
    /// index counts respondents, one per case, and the first answer stands.
    fn decide_survey(
        &self,
        actor: &Actor,
        s: AnswerSurvey,
        now: DateTime<Utc>,
    ) -> Result<ComplaintEvent, ComplaintError> {
        let verb = SURVEY_VERB;
        let holder = access::permits(
            actor,
            Operation::AnswerSurvey,
            self,
            s.tracking_code.as_deref(),
        );
        self.allow(actor, holder, verb)?;
        if self.status != Status::Closed {
            return Err(ComplaintError::InvalidTransition {
                action: verb.to_string(),
                status: self.status,
            });
        }
        if self.survey_answered {
            return Err(ComplaintError::RuleViolated(
                "the survey of this case has already been answered".into(),
            ));
        }
        let answers = crate::ikm::check_answers(&s.answers)
            .map_err(|(field, message)| ComplaintError::invalid(field, message))?;
        Ok(ComplaintEvent::SurveyAnswered {
            answers,
            occurred_at: now,
        })
    }

    /// The reporter stops the notifications about this case: once (a second
    /// time is refused, so a retried request is told it already happened).
    fn decide_opt_out(
        &self,
        actor: &Actor,
        o: OptOutOfNotifications,
        now: DateTime<Utc>,
    ) -> Result<ComplaintEvent, ComplaintError> {
        let holder = access::permits(
            actor,
            Operation::OptOutOfNotifications,
            self,
            o.tracking_code.as_deref(),
        );
        self.allow(actor, holder, OPT_OUT_VERB)?;
        if self.notifications_opted_out {
            return Err(ComplaintError::RuleViolated(
                "the notifications of this case are already stopped".into(),
            ));
        }
        Ok(ComplaintEvent::NotificationsOptedOut { occurred_at: now })
    }

    fn allow(&self, actor: &Actor, allowed: bool, verb: &str) -> Result<(), ComplaintError> {
        if allowed {
            return Ok(());
        }
        if actor.role.is_opd_scoped() && self.opd.is_none() {
            // Not dispatched yet: no OPD may act on it, and that is about its state.
            return Err(ComplaintError::InvalidTransition {
                action: verb.to_string(),
                status: self.status,
            });
        }
        let whose = match (&self.opd, actor.role.is_opd_scoped()) {
            (Some(opd), true) => format!(" (the case is with {opd})"),
            _ => String::new(),
        };
        Err(ComplaintError::forbidden(format!(
            "{} may not {verb} this complaint{whose}",
            actor.role
        )))
    }
}
