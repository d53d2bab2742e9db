//! Attachments at the server's edge: uploads made into kept objects
//! (`aduan_attachments` recognises, cleans and stores them), and downloads
//! through short-lived signed links that this server serves.
//!
//! A link names the complaint, the event that recorded the file and the
//! variant (original or thumbnail), with an expiry and an HMAC-SHA256 over all
//! of them keyed with a secret kept in the database (every process agrees).
//! It is issued only to a caller the access policy lets see that attachment;
//! whoever holds it may fetch the file until it expires, like a pre-signed
//! object-store URL. Altered or moved to another case, it fails its signature.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use aduan_attachments::{clean, Location, MediaType, Objects, Refused};
use aduan_domain::{AttachmentRef, ComplaintEvent, NoteVisibility};

use crate::error_code::ClientCode;
use crate::keys::{KeyRing, Ring};
use crate::state::AppState;

/// Limits on what one request may upload.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_files: usize,
}

impl Limits {
    /// The largest request body an upload may need (files plus the operation).
    pub fn body_bytes(&self) -> usize {
        self.max_bytes
            .saturating_mul(self.max_files)
            .saturating_add(crate::body_limit::MAX_BODY_BYTES)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    fn as_str(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Thumbnail => "thumbnail",
        }
    }

    fn parse(s: &str) -> Option<Variant> {
        match s {
            "original" => Some(Variant::Original),
            "thumbnail" => Some(Variant::Thumbnail),
            _ => None,
        }
    }
}

pub struct Attachments {
    objects: Objects,
    /// The link keys: the newest signs, the ones rotated out verify the links
    /// they signed until those expire (`aduan keys rotate attachments`).
    keys: Arc<KeyRing>,
    pub limits: Limits,
    link_ttl: Duration,
    /// Links signed by the object store itself (S3) instead of served here.
    presigned: bool,
}

impl std::fmt::Debug for Attachments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachments")
            .field("objects", &self.objects.describe())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Attachments {
    pub fn new(
        location: &Location,
        keys: Arc<KeyRing>,
        limits: Limits,
        link_ttl: Duration,
        presigned: bool,
    ) -> anyhow::Result<Arc<Attachments>> {
        let objects = Objects::open(location)?;
        if presigned && !matches!(location, Location::S3 { .. }) {
            anyhow::bail!(
                "ADUAN_ATTACHMENT_PRESIGNED_URLS needs S3 object storage (ADUAN_S3_BUCKET)"
            );
        }
        Ok(Arc::new(Attachments {
            objects,
            keys,
            limits,
            link_ttl,
            presigned,
        }))
    }

    /// With pre-signed URLs configured, the object store's own link for the
    /// object `hash`, else `None` (this server's link stands).
    pub async fn presigned(&self, hash: &str) -> Option<String> {
        if !self.presigned {
            return None;
        }
        match self.objects.presigned_get(hash, self.link_ttl).await {
            Ok(url) => url,
            Err(e) => {
                tracing::warn!(error = %e, "could not pre-sign an attachment URL; serving it here");
                None
            }
        }
    }

    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// Recognises, cleans and stores an upload; the reference its event keeps.
    /// Nothing is stored for a refused file.
    pub async fn keep(
        &self,
        bytes: Vec<u8>,
        caption: Option<String>,
        visibility: NoteVisibility,
    ) -> Result<AttachmentRef, KeepError> {
        if bytes.len() > self.limits.max_bytes {
            return Err(KeepError::Refused(Refused::TooLarge(self.limits.max_bytes)));
        }
        // Decoding and encoding a photo takes tens of milliseconds of CPU.
        let cleaned = tokio::task::spawn_blocking(move || clean(bytes))
            .await
            .map_err(|e| KeepError::Storage(e.to_string()))?
            .map_err(KeepError::Refused)?;
        let thumbnail_sha256 = match cleaned.thumbnail {
            Some(t) => Some(self.objects.put(t).await.map_err(storage)?),
            None => None,
        };
        let size = cleaned.bytes.len() as u64;
        let sha256 = self.objects.put(cleaned.bytes).await.map_err(storage)?;
        Ok(AttachmentRef {
            sha256,
            media_type: cleaned.media_type.mime().to_string(),
            size,
            thumbnail_sha256,
            caption,
            visibility,
        })
    }

    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// How long a link is valid: a rotated key verifies for as long.
    pub fn link_ttl(&self) -> Duration {
        self.link_ttl
    }

    #[allow(clippy::expect_used, reason = "HMAC accepts keys of any length")]
    fn signature(
        key: &[u8],
        complaint: &str,
        sequence: i64,
        variant: Variant,
        expires: i64,
    ) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(format!("{complaint}\n{sequence}\n{}\n{expires}", variant.as_str()).as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A link to the file recorded by event `sequence` of `complaint`, valid
    /// for the configured time from `now`.
    pub fn link(
        &self,
        complaint: &str,
        sequence: i64,
        variant: Variant,
        now: DateTime<Utc>,
    ) -> String {
        let expires = now.timestamp() + self.link_ttl.as_secs() as i64;
        let ring = self.keys.held_refreshing();
        let key = ring.current().secret.as_deref().unwrap_or_default();
        let signature = Self::signature(key.as_bytes(), complaint, sequence, variant, expires);
        format!(
            "/attachments/{complaint}/{sequence}/{}?expires={expires}&signature={signature}",
            variant.as_str()
        )
    }

    #[allow(
        clippy::expect_used,
        reason = "the expected signature is our own base64 encoding"
    )]
    fn verify(
        ring: &Ring,
        complaint: &str,
        sequence: i64,
        variant: Variant,
        link: &LinkQuery,
        now: DateTime<Utc>,
    ) -> Result<(), LinkRefused> {
        let given = URL_SAFE_NO_PAD.decode(&link.signature).unwrap_or_default();
        // Every key that still verifies is tried, so the time taken does not
        // tell which one matched; each comparison is constant-time, so it
        // does not tell how much of a guess was right.
        let mut same = false;
        for key in ring.secrets_at(now) {
            let expected = Self::signature(key, complaint, sequence, variant, link.expires);
            let expected = URL_SAFE_NO_PAD.decode(expected).expect("our own encoding");
            same |= given.len() == expected.len()
                && given
                    .iter()
                    .zip(&expected)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0;
        }
        if !same {
            return Err(LinkRefused::Altered);
        }
        if link.expires < now.timestamp() {
            return Err(LinkRefused::Expired);
        }
        Ok(())
    }
}

fn storage(e: aduan_attachments::ObjectsError) -> KeepError {
    KeepError::Storage(e.to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    #[error(transparent)]
    Refused(Refused),
    #[error("{0}")]
    Storage(String),
}

/// Why a link is refused (403 either way, with its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    Altered,
    Expired,
}

impl IntoResponse for LinkRefused {
    fn into_response(self) -> Response {
        let (code, message) = match self {
            LinkRefused::Altered => (
                ClientCode::Forbidden,
                "this link was altered, or is not for this file",
            ),
            LinkRefused::Expired => (
                ClientCode::LinkExpired,
                "this link has expired; read the case again for a fresh one",
            ),
        };
        refusal(code, message)
    }
}

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    expires: i64,
    signature: String,
}

fn refusal(code: ClientCode, message: &str) -> Response {
    (code.http_status(), Json(code.body(message, None))).into_response()
}

fn not_found(message: &str) -> Response {
    refusal(ClientCode::NotFound, message)
}

/// `GET /attachments/{complaint}/{sequence}/{variant}?expires=..&signature=..`
pub async fn download(
    State(state): State<AppState>,
    Path((complaint, sequence, variant)): Path<(String, i64, String)>,
    link: Result<Query<LinkQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let attachments = &state.attachments;
    let Some(variant) = Variant::parse(&variant) else {
        return not_found("no such file");
    };
    let Ok(Query(link)) = link else {
        return refusal(
            ClientCode::Forbidden,
            "a link needs its expires and signature",
        );
    };
    let ring = attachments.keys.fresh().await;
    if let Err(refused) =
        Attachments::verify(&ring, &complaint, sequence, variant, &link, Utc::now())
    {
        return refused.into_response();
    }
    let events = match state.bus.log().load(&complaint).await {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(error = %e, "attachment download: event store unavailable");
            return refusal(ClientCode::Unavailable, "retry later");
        }
    };
    let file = events.iter().find_map(|e| match &e.event {
        ComplaintEvent::AttachmentAdded { file, .. } if e.sequence == sequence => Some((e, file)),
        _ => None,
    });
    let Some((event, file)) = file else {
        return not_found("no such file on this complaint");
    };
    if crate::erased_files::is_erased(&events, event) {
        return not_found("this file was erased with the reporter's personal data");
    }
    let (hash, media_type) = match variant {
        Variant::Original => (Some(&file.sha256), file.media_type.as_str()),
        Variant::Thumbnail => (file.thumbnail_sha256.as_ref(), "image/jpeg"),
    };
    let Some(hash) = hash else {
        return not_found("this file has no thumbnail");
    };
    match attachments.objects.get(hash).await {
        Ok(Some(bytes)) => served(bytes, media_type, &complaint, sequence, link.expires),
        Ok(None) => {
            tracing::error!(%complaint, sequence, %hash, "attachment object missing from storage");
            not_found("the file is missing from storage")
        }
        Err(e) => {
            tracing::warn!(error = %e, "attachment download: object storage unavailable");
            refusal(ClientCode::Unavailable, "retry later")
        }
    }
}

fn served(
    bytes: bytes::Bytes,
    media_type: &str,
    complaint: &str,
    sequence: i64,
    expires: i64,
) -> Response {
    let extension = match MediaType::from_mime(media_type) {
        Some(MediaType::Jpeg) => "jpg",
        Some(MediaType::Png) => "png",
        Some(MediaType::Webp) => "webp",
        Some(MediaType::Heic) => "heic",
        Some(MediaType::Pdf) => "pdf",
        None => "bin",
    };
    let max_age = (expires - Utc::now().timestamp()).max(0);
    let headers = [
        (header::CONTENT_TYPE, media_type.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{complaint}-{sequence}.{extension}\""),
        ),
        (header::CACHE_CONTROL, format!("private, max-age={max_age}")),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        // A PDF opened from here runs no script against this origin.
        (header::CONTENT_SECURITY_POLICY, "sandbox".to_string()),
    ];
    let mut response = (StatusCode::OK, bytes).into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
