//! A registered webhook endpoint: where to deliver, what, and how it stands.
//! Stored as a document in `integration_state` (kind `webhook_endpoint`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest URL accepted.
const MAX_URL: usize = 2048;
const MAX_DESCRIPTION: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Active,
    /// Deliveries stopped (retries exhausted, or a supervisor's pause) until a
    /// supervisor resumes it; its events wait after its checkpoint.
    Paused,
    /// Removed: nothing more is delivered; the document stays as a record.
    Removed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    /// The signing secret (`whsec_...`); shown to the registering supervisor once.
    pub secret: String,
    /// Event types delivered (`Assigned`, ...); empty: all.
    pub event_types: Vec<String>,
    /// OPDs whose cases are delivered (the OPD after the event); empty: all.
    pub opds: Vec<String>,
    pub personal_data: bool,
    pub description: Option<String>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// When the status last changed.
    pub status_at: DateTime<Utc>,
    /// Failed attempts since the last success.
    pub failures: u32,
    /// Why the last attempt failed (or the endpoint was paused); cleared by
    /// the next delivery that succeeds.
    pub last_error: Option<String>,
    /// When `last_error` happened. Endpoints stored before it was kept have none.
    #[serde(default)]
    pub last_error_at: Option<DateTime<Utc>>,
    /// The secret before the last rotation: deliveries carry its signature
    /// beside the new one until `previous_until`, so receivers can switch
    /// without missing a delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_until: Option<DateTime<Utc>>,
}

/// The longest overlap of an old and a new secret a rotation may ask for.
pub const MAX_OVERLAP_HOURS: i64 = 7 * 24;

/// What a supervisor registers.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub url: String,
    pub event_types: Vec<String>,
    pub opds: Vec<String>,
    pub personal_data: bool,
    pub description: Option<String>,
}

/// Why a registration is refused: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

impl Registration {
    /// Checks the registration against the known event types and OPDs.
    pub fn validate(&self, event_types: &[&str], opds: &[String]) -> Result<(), Invalid> {
        check_url(&self.url)?;
        if let Some(unknown) = self
            .event_types
            .iter()
            .find(|t| !event_types.contains(&t.as_str()))
        {
            return Err(invalid(
                "eventTypes",
                format!(
                    "unknown event type {unknown:?}; known: {}",
                    event_types.join(", ")
                ),
            ));
        }
        if let Some(unknown) = self.opds.iter().find(|o| !opds.contains(o)) {
            return Err(invalid("opds", format!("unknown OPD {unknown:?}")));
        }
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            return Err(invalid(
                "description",
                format!("at most {MAX_DESCRIPTION} characters"),
            ));
        }
        Ok(())
    }
}

fn check_url(url: &str) -> Result<(), Invalid> {
    if url.len() > MAX_URL {
        return Err(invalid("url", format!("at most {MAX_URL} characters")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid("url", e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("url", "only http and https URLs"));
    }
    if parsed.host().is_none() {
        return Err(invalid("url", "the URL has no host"));
    }
    // A secret in the URL would show in every listing; the signature is the
    // credential.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("url", "no user name or password in the URL"));
    }
    Ok(())
}

impl Endpoint {
    pub fn new(id: String, registration: Registration, secret: String, by: &str) -> Endpoint {
        let now = Utc::now();
        Endpoint {
            id,
            url: registration.url,
            secret,
            event_types: registration.event_types,
            opds: registration.opds,
            personal_data: registration.personal_data,
            description: registration.description,
            status: Status::Active,
            created_at: now,
            created_by: by.to_string(),
            status_at: now,
            failures: 0,
            last_error: None,
            last_error_at: None,
            previous_secret: None,
            previous_until: None,
        }
    }

    /// The secrets that sign a delivery made `now`: the current one first,
    /// then the previous one while its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_until) {
            if now < until {
                secrets.push(old);
            }
        }
        secrets
    }

    /// Puts `secret` in place of the current one, which keeps signing for
    /// `overlap_hours` (0 to `MAX_OVERLAP_HOURS`; 0 ends it at once, for a leaked
    /// secret).
    pub fn rotate(
        &mut self,
        secret: String,
        overlap_hours: i64,
        now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        if !(0..=MAX_OVERLAP_HOURS).contains(&overlap_hours) {
            return Err(invalid(
                "overlapHours",
                format!("between 0 and {MAX_OVERLAP_HOURS}"),
            ));
        }
        let old = std::mem::replace(&mut self.secret, secret);
        self.previous_secret = (overlap_hours > 0).then_some(old);
        self.previous_until =
            (overlap_hours > 0).then(|| now + chrono::Duration::hours(overlap_hours));
        Ok(())
    }

    /// Whether an event of `event_type` on a case with `opd` after it goes here.
    pub fn wants(&self, event_type: &str, opd: Option<&str>) -> bool {
        (self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type))
            && (self.opds.is_empty() || opd.is_some_and(|o| self.opds.iter().any(|x| x == o)))
    }

    /// The checkpoint (and `/metrics` lag label) of its deliveries.
    pub fn checkpoint_name(&self) -> String {
        checkpoint_name(&self.id)
    }
}

pub fn checkpoint_name(id: &str) -> String {
    format!("webhook:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(url: &str) -> Registration {
        Registration {
            url: url.into(),
            ..Default::default()
        }
    }

    #[test]
    fn urls_must_be_plain_http_or_https() {
        let known = ["Assigned"];
        let ok = |u: &str| registration(u).validate(&known, &[]);
        assert!(ok("https://example.org/hooks/aduan").is_ok());
        assert!(ok("http://127.0.0.1:9000/").is_ok());
        for bad in [
            "ftp://example.org/",
            "not a url",
            "https://user:pw@example.org/",
            "file:///etc/passwd",
        ] {
            assert_eq!(ok(bad).unwrap_err().field, "url", "{bad}");
        }
        assert_eq!(
            ok(&format!("https://e.org/{}", "a".repeat(MAX_URL)))
                .unwrap_err()
                .field,
            "url"
        );
    }

    #[test]
    fn event_types_and_opds_must_be_known() {
        let opds = vec!["DPU".to_string()];
        let mut r = registration("https://e.org/");
        r.event_types = vec!["Assigned".into(), "Teleported".into()];
        assert_eq!(
            r.validate(&["Assigned"], &opds).unwrap_err().field,
            "eventTypes"
        );
        r.event_types = vec!["Assigned".into()];
        r.opds = vec!["NOPE".into()];
        assert_eq!(r.validate(&["Assigned"], &opds).unwrap_err().field, "opds");
        r.opds = opds.clone();
        assert!(r.validate(&["Assigned"], &opds).is_ok());
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends() {
        let now = Utc::now();
        let mut e = Endpoint::new(
            "e".into(),
            registration("https://e.org/"),
            "s1".into(),
            "sup",
        );
        e.rotate("s2".into(), 24, now).unwrap();
        assert_eq!(e.signing_secrets(now), ["s2", "s1"]);
        let later = now + chrono::Duration::hours(24);
        assert_eq!(e.signing_secrets(later), ["s2"]);
        // A leaked secret ends at once.
        e.rotate("s3".into(), 0, now).unwrap();
        assert_eq!(e.signing_secrets(now), ["s3"]);
        for bad in [-1, MAX_OVERLAP_HOURS + 1] {
            assert_eq!(
                e.rotate("x".into(), bad, now).unwrap_err().field,
                "overlapHours"
            );
        }
        assert_eq!(e.secret, "s3", "a refused rotation changes nothing");
    }

    #[test]
    fn filters_select_by_type_and_by_the_opd_after_the_event() {
        let mut r = registration("https://e.org/");
        let all = Endpoint::new("e".into(), r.clone(), "s".into(), "sup");
        assert!(all.wants("Submitted", None));
        r.event_types = vec!["Assigned".into()];
        r.opds = vec!["DPU".into()];
        let some = Endpoint::new("e".into(), r, "s".into(), "sup");
        assert!(some.wants("Assigned", Some("DPU")));
        assert!(!some.wants("Assigned", Some("DLH")));
        assert!(!some.wants("Assigned", None));
        assert!(!some.wants("Responded", Some("DPU")));
    }
}
