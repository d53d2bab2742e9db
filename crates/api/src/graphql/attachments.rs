//! Photos and documents over GraphQL: `addAttachment` (a GraphQL multipart
//! request: docs/api.md) and the `attachments` of a case, each with links
//! that expire (see `crate::attachments`).

use std::io::Read;
use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Upload, ID};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;
use aduan_domain::{
    Action, Actor, AddAttachment, AttachmentRef, Command, ComplaintEvent, NoteVisibility, Role,
    StoredFile,
};
use aduan_store::StoredEvent;

use super::access::guard;
use super::error::{gql_error, invalid_input};
use super::inputs::FileInput;
use super::mutation::{checked_id, run};
use crate::attachments::{Attachments, KeepError, Variant};
use crate::error_code::ClientCode;

/// A photo or document on a case.
#[derive(SimpleObject, Clone)]
pub struct Attachment {
    /// `<complaint id>:<sequence of the event that recorded it>`.
    pub id: ID,
    pub complaint_id: ID,
    /// As recognised from the content: image/jpeg, image/png, image/webp,
    /// image/heic or application/pdf.
    pub media_type: String,
    /// Bytes, as kept (pictures are re-encoded without their metadata).
    pub size: i64,
    pub caption: Option<String>,
    pub visibility: super::types::NoteVisibility,
    pub uploaded_at: DateTime<Utc>,
    /// The staff member's id, or CITIZEN / PUBLIC for the reporter's own files.
    pub uploaded_by: String,
    /// A link to the file, valid for a few minutes (relative to the server).
    pub url: String,
    /// A JPEG of at most 320 pixels a side, for pictures the server could decode.
    pub thumbnail_url: Option<String>,
    #[graphql(skip)]
    pub objects: (String, Option<String>),
}

/// Replaces this server's links with the object store's own, where configured.
pub async fn presign(signer: &Attachments, attachments: &mut [Attachment]) {
    for a in attachments {
        if let Some(url) = signer.presigned(&a.objects.0).await {
            a.url = url;
        }
        if let Some(thumbnail) = &a.objects.1 {
            if let Some(url) = signer.presigned(thumbnail).await {
                a.thumbnail_url = Some(url);
            }
        }
    }
}

/// The attachments in `events` a viewer may see (INTERNAL ones only with
/// `internal`; none erased with the reporter's data), oldest first, with
/// fresh links.
pub fn attachments_of(
    events: &[StoredEvent],
    internal: bool,
    signer: &Attachments,
) -> Vec<Attachment> {
    let now = Utc::now();
    events
        .iter()
        .filter_map(|e| match &e.event {
            ComplaintEvent::AttachmentAdded { file, occurred_at }
                if (internal || file.visibility == NoteVisibility::Public)
                    && !crate::erased_files::is_erased(events, e) =>
            {
                let m = &e.metadata;
                let uploaded_by = match m.actor_role.as_str() {
                    role @ ("CITIZEN" | "PUBLIC") => role.to_string(),
                    _ => m.actor_id.clone(),
                };
                let id = &e.aggregate_id;
                Some(Attachment {
                    id: ID(format!("{id}:{}", e.sequence)),
                    complaint_id: ID(id.clone()),
                    media_type: file.media_type.clone(),
                    size: file.size as i64,
                    caption: file.caption.clone(),
                    visibility: file.visibility.into(),
                    uploaded_at: *occurred_at,
                    uploaded_by,
                    url: signer.link(id, e.sequence, Variant::Original, now),
                    thumbnail_url: file
                        .thumbnail_sha256
                        .as_ref()
                        .map(|_| signer.link(id, e.sequence, Variant::Thumbnail, now)),
                    objects: (file.sha256.clone(), file.thumbnail_sha256.clone()),
                })
            }
            _ => None,
        })
        .collect()
}

/// Decides `command` on the case as it stands, without appending: its refusal
/// (the case is not there, the caller may not, the input is wrong) comes
/// before any upload is stored. A case that changes in between can still
/// refuse the real command; `aduan attachments check` finds what that leaves.
async fn precheck(ctx: &Context<'_>, complaint_id: &str, command: Command) -> Result<()> {
    super::context::bus(ctx)?
        .check(complaint_id, command)
        .await
        .map(drop)
        .map_err(super::error::command_error)
}

/// Stands in for a file not stored yet, for `precheck`: its caption is
/// checked as the kept file's will be.
fn probe(caption: Option<String>, visibility: NoteVisibility) -> Result<StoredFile> {
    stored(AttachmentRef {
        sha256: "0".repeat(64),
        media_type: "application/pdf".into(),
        size: 1,
        thumbnail_sha256: None,
        caption,
        visibility,
    })
}

fn stored(file: AttachmentRef) -> Result<StoredFile> {
    StoredFile::check(file).map_err(|e| super::error::command_error(e.into()))
}

/// The reporter's files are PUBLIC unless they say otherwise; staff's INTERNAL.
fn default_visibility(actor: &Actor) -> NoteVisibility {
    if matches!(actor.role, Role::Citizen | Role::Public) {
        NoteVisibility::Public
    } else {
        NoteVisibility::Internal
    }
}

/// Reads an upload and keeps what may be kept of it.
async fn keep(
    ctx: &Context<'_>,
    upload: &Upload,
    caption: Option<String>,
    visibility: NoteVisibility,
) -> Result<StoredFile> {
    let upload = upload
        .value(ctx)
        .map_err(|_| invalid_input("file", "no file was sent"))?;
    let mut bytes = Vec::new();
    upload
        .into_read()
        .read_to_end(&mut bytes)
        .map_err(|e| invalid_input("file", &e.to_string()))?;
    signer(ctx)?
        .keep(bytes, caption, visibility)
        .await
        .map_err(|e| match e {
            KeepError::Refused(refused) => invalid_input("file", &refused.to_string()),
            KeepError::Storage(detail) => {
                tracing::warn!(%detail, "object storage unavailable");
                gql_error(
                    ClientCode::Unavailable,
                    "attachments cannot be stored now; retry later",
                )
            }
        })
        .and_then(stored)
}

/// `command` with `files`: checked against the case first, then stored, so a
/// refused command stores nothing.
pub async fn with_files(
    ctx: &Context<'_>,
    complaint_id: &str,
    command: Command,
    files: Vec<FileInput>,
) -> Result<Command> {
    if files.is_empty() {
        return Ok(command);
    }
    let visibility = |f: &FileInput| {
        f.visibility
            .map(Into::into)
            .unwrap_or(default_visibility(&command.actor))
    };
    let probes = files
        .iter()
        .map(|f| probe(f.caption.clone(), visibility(f)))
        .collect::<Result<_>>()?;
    precheck(ctx, complaint_id, command.clone().with_files(probes)).await?;
    let mut kept = Vec::with_capacity(files.len());
    for f in &files {
        kept.push(keep(ctx, &f.file, f.caption.clone(), visibility(f)).await?);
    }
    Ok(command.with_files(kept))
}

pub fn signer<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Attachments>> {
    ctx.data::<Arc<Attachments>>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "attachments are not configured"))
}

#[derive(InputObject)]
pub struct AddAttachmentInput {
    pub complaint_id: ID,
    /// The file: a GraphQL multipart request's upload (JPEG, PNG, WebP, HEIC or
    /// PDF, recognised by content; at most 10 MB unless configured otherwise).
    pub file: Upload,
    pub caption: Option<String>,
    /// Default: PUBLIC for the reporter's own files, INTERNAL for staff's.
    pub visibility: Option<super::types::NoteVisibility>,
    /// Attaching without an account: the case's tracking code.
    pub tracking_code: Option<String>,
    /// Idempotency key: a retry with the same id and file stores nothing twice.
    pub command_id: Option<String>,
}

#[derive(Default)]
pub struct AttachmentMutation;

#[Object]
impl AttachmentMutation {
    /// Attaches a photo or document to a case: the reporter (by account or
    /// tracking code) or city staff on a case they may act on. Pictures are
    /// kept re-encoded, upright and without their metadata (GPS, camera
    /// serial, capture time). Send it as a GraphQL multipart request.
    async fn add_attachment(
        &self,
        ctx: &Context<'_>,
        input: AddAttachmentInput,
    ) -> Result<Attachment> {
        let (actor, _) = guard(ctx, Operation::AddAttachment)?;
        checked_id("complaintId", &input.complaint_id)?;
        let complaint_id = input.complaint_id.0.clone();
        let visibility = input
            .visibility
            .map(Into::into)
            .unwrap_or(default_visibility(&actor));
        let attach = |file| {
            Action::AddAttachment(AddAttachment {
                file,
                tracking_code: input.tracking_code.clone(),
            })
        };
        // Whatever the command would refuse is refused before anything is stored.
        let probe = probe(input.caption.clone(), visibility)?;
        precheck(
            ctx,
            &complaint_id,
            Command::new(actor.clone(), attach(probe)),
        )
        .await?;
        let file = keep(ctx, &input.file, input.caption.clone(), visibility).await?;
        let command = Command::new(actor, attach(file));
        let outcome = run(ctx, complaint_id.clone(), input.command_id, None, command).await?;
        let event = super::context::bus(ctx)?
            .log()
            .load_one(&complaint_id, outcome.version)
            .await
            .map_err(super::error::store_error)?;
        let signer = signer(ctx)?;
        let mut added = attachments_of(event.as_slice(), true, signer);
        presign(signer, &mut added).await;
        added
            .into_iter()
            .next()
            .ok_or_else(|| gql_error(ClientCode::Internal, "the attachment's event is missing"))
    }
}
