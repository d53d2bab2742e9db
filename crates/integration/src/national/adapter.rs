//! The adapter trait the bridge talks to the national platform through. The
//! platform's real integration API is documented only to registered government
//! developers: a deployment implements this trait for it (`http` implements
//! aduan's own contract, which the simulator serves).

use async_trait::async_trait;

use super::contract::{Followup, FollowupOutcome, Page};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NationalError {
    /// 5xx, a timeout, no connection: the same request may succeed later.
    #[error("the national platform is unavailable: {0}")]
    RetryLater(String),
    /// The platform answered and will answer the same again: retrying is useless.
    #[error("the national platform refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        /// NOT_FOUND (unknown tracking id), OUT_OF_ORDER (stage), or REFUSED.
        code: &'static str,
        message: String,
    },
}

impl NationalError {
    /// The error a response with `status` (not a success) means.
    pub fn from_status(status: u16, message: String) -> NationalError {
        let code = match status {
            404 => "NOT_FOUND",
            409 => "OUT_OF_ORDER",
            // Rate limits and request timeouts pass.
            408 | 429 => return NationalError::RetryLater(format!("{status}: {message}")),
            // A token refused is the city's setting to fix, not the case's
            // fault: passing milestones as refused would lose them all.
            401 | 403 => {
                return NationalError::RetryLater(format!(
                    "{status} (check ADUAN_NATIONAL_TOKEN): {message}"
                ))
            }
            400..=499 => "REFUSED",
            _ => return NationalError::RetryLater(format!("{status}: {message}")),
        };
        NationalError::Refused {
            status,
            code,
            message,
        }
    }
}

#[async_trait]
pub trait NationalPlatform: Send + Sync {
    /// The reports disposed to the city after `after` (from the start when
    /// `None`), at most `limit`. The same report may come again, out of order.
    async fn fetch_reports(&self, after: Option<&str>, limit: usize)
        -> Result<Page, NationalError>;

    /// Sends one follow-up; the platform keeps the first result per
    /// `idempotency_key`, so a re-send changes nothing there.
    async fn post_followup(
        &self,
        tracking_id: &str,
        idempotency_key: &str,
        followup: &Followup,
    ) -> Result<FollowupOutcome, NationalError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_retried_and_client_errors_are_refusals() {
        for status in [500, 502, 503, 504, 408, 429, 401, 403] {
            assert!(matches!(
                NationalError::from_status(status, String::new()),
                NationalError::RetryLater(_)
            ));
        }
        for (status, code) in [(404, "NOT_FOUND"), (409, "OUT_OF_ORDER"), (400, "REFUSED")] {
            assert!(matches!(
                NationalError::from_status(status, String::new()),
                NationalError::Refused { code: c, .. } if c == code
            ));
        }
    }
}
