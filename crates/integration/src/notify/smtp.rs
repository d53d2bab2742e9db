//! E-mail by SMTP (`lettre`, rustls). Each message carries a `Message-ID`
//! made from its outbox key (complaint, sequence, kind), the same on every
//! attempt: a message sent again after a crash between the send and its mark
//! is recognisably the same message for the receiving system.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::templates;
use super::SendError;

/// Where and as whom e-mail is sent.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `smtp://host:port` (plain, or STARTTLS when offered), `smtp://host:port?tls=required`,
    /// `smtps://host:port`; user and password in the URL when the relay needs them.
    pub url: String,
    /// `Nama <alamat@domain>`.
    pub from: String,
    pub timeout: Duration,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmailSetupError {
    #[error("ADUAN_SMTP_URL: {0}")]
    Url(String),
    #[error("ADUAN_NOTIFY_FROM: {0}")]
    From(String),
}

impl Mailer {
    pub fn new(settings: &EmailSettings) -> Result<Mailer, EmailSetupError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| EmailSetupError::Url(e.to_string()))?
            .timeout(Some(settings.timeout))
            .build();
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| EmailSetupError::From(e.to_string()))?;
        let domain = from.email.domain().to_string();
        Ok(Mailer {
            transport,
            from,
            domain,
        })
    }

    /// The `Message-ID` of the message keyed `key`.
    pub fn message_id(&self, key: &str) -> String {
        format!("<{key}@{}>", self.domain)
    }

    /// Sends `message` to `to` (an address, with the reporter's name when known).
    pub async fn send(
        &self,
        to: &str,
        name: Option<&str>,
        key: &str,
        message: &templates::Message,
    ) -> Result<(), SendError> {
        let address = to
            .trim()
            .parse()
            .map_err(|_| SendError::NoAddress("no valid e-mail address"))?;
        let to = Mailbox::new(name.map(str::to_string), address);
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(self.message_id(key)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(describe(&e))),
            Err(e) => Err(SendError::Transient(describe(&e))),
        }
    }
}

/// The error without the recipient (the server's reply may quote it).
fn describe(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("SMTP {code}"),
        None if e.is_timeout() => "SMTP timed out".into(),
        None => "SMTP connection failed".into(),
    }
}
