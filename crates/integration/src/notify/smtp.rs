//! E-mail by SMTP (`lettre`, rustls). Each message carries a `Message-ID`
//! made from its outbox key (complaint, sequence, kind), the same on every
//! attempt: a message sent again after a crash between the send and its mark
//! is recognisably the same message for the receiving system.

use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
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

    /// Sends `message` as `envelope` says.
    pub async fn send(
        &self,
        envelope: &Envelope<'_>,
        message: &templates::Message,
    ) -> Result<(), SendError> {
        let address = envelope
            .to
            .trim()
            .parse()
            .map_err(|_| SendError::NoAddress("no valid e-mail address"))?;
        let to = Mailbox::new(envelope.name.map(str::to_string), address);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(self.message_id(envelope.key)))
            .header(ContentType::TEXT_PLAIN);
        if let Some(url) = envelope.unsubscribe {
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        let email = builder
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

/// Who a message goes to and how it is known.
pub struct Envelope<'a> {
    /// The address, with the reporter's name when known.
    pub to: &'a str,
    pub name: Option<&'a str>,
    /// The outbox row's key: the `Message-ID`, the same on a resend.
    pub key: &'a str,
    /// The one-click opt-out URL (`List-Unsubscribe`), when there is one.
    pub unsubscribe: Option<&'a str>,
}

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the mail
/// client may opt out with one POST, without opening a page.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}
