//! SMS and WhatsApp through the city's message gateway (a provider adapter:
//! the city points it at its provider, or at a small service of its own that
//! speaks this contract). `POST {url}` with JSON
//! `{"to", "text", "channel", "idempotencyKey"}` and the same key in an
//! `Idempotency-Key` header, plus the configured `Authorization` header.
//! 2xx: sent. 4xx other than 408 and 429: refused for good. Anything else, and
//! no answer: tried again later under the same key, which the gateway uses to
//! send a message once however often it is asked.

use std::time::Duration;

use super::SendError;

#[derive(Debug, Clone)]
pub struct GatewaySettings {
    pub url: String,
    /// The whole `Authorization` header value (`Bearer ...`), if the gateway wants one.
    pub authorization: Option<String>,
    /// `sms` or `whatsapp`.
    pub channel: super::Channel,
    pub timeout: Duration,
}

#[derive(Debug)]
pub struct Gateway {
    http: reqwest::Client,
    settings: GatewaySettings,
}

impl Gateway {
    #[allow(
        clippy::expect_used,
        reason = "rustls initialises without system libraries; a failure here is a broken build"
    )]
    pub fn new(settings: GatewaySettings) -> Gateway {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("aduan/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        Gateway { http, settings }
    }

    pub fn channel(&self) -> super::Channel {
        self.settings.channel
    }

    pub async fn send(&self, to: &str, key: &str, text: &str) -> Result<(), SendError> {
        let to = phone_number(to).ok_or(SendError::NoAddress("no valid phone number"))?;
        let body = serde_json::json!({
            "to": to,
            "text": text,
            "channel": self.settings.channel.as_str(),
            "idempotencyKey": key,
        });
        let mut request = self
            .http
            .post(&self.settings.url)
            .header("idempotency-key", key)
            .json(&body)
            .timeout(self.settings.timeout);
        if let Some(auth) = &self.settings.authorization {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.map_err(|e| {
            SendError::Transient(if e.is_timeout() {
                "gateway timed out".into()
            } else {
                "gateway not reachable".into()
            })
        })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
            Err(SendError::Permanent(format!("gateway HTTP {status}")))
        } else {
            Err(SendError::Transient(format!("gateway HTTP {status}")))
        }
    }
}

/// An Indonesian number in international form (`+62...`): spaces, dashes,
/// dots and brackets dropped, a leading 0 read as +62. `None` for anything
/// that is not 8 to 15 digits then.
pub fn phone_number(raw: &str) -> Option<String> {
    let kept: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = if let Some(rest) = kept.strip_prefix('+') {
        rest.to_string()
    } else if let Some(rest) = kept.strip_prefix('0') {
        format!("62{rest}")
    } else {
        kept
    };
    let ok = (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
    ok.then(|| format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::phone_number;

    #[test]
    fn numbers_are_put_in_international_form() {
        assert_eq!(
            phone_number("+62 811 4000 123").as_deref(),
            Some("+628114000123")
        );
        assert_eq!(
            phone_number("0811-4000-123").as_deref(),
            Some("+628114000123")
        );
        assert_eq!(
            phone_number("(0411) 123456").as_deref(),
            Some("+62411123456")
        );
        assert_eq!(phone_number("[erased]"), None);
        assert_eq!(phone_number("12"), None);
    }
}
