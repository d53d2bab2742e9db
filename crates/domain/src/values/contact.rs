//! How to reach a reporter: a name, a phone number, an e-mail address.

use serde::Serialize;

use super::text::{Text, Title};
use super::{Invalid, Reporter};
use crate::error::ComplaintError;

/// A phone number as people write it: digits with `+`, `-`, spaces and brackets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn optional(value: Option<&str>) -> Result<Option<Self>, Invalid> {
        let Some(p) = Text::<32>::optional(value)?.map(Text::into_string) else {
            return Ok(None);
        };
        let digits = p.chars().filter(char::is_ascii_digit).count();
        let allowed = p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if !allowed || !(6..=15).contains(&digits) {
            return Err(Invalid::new("is not a phone number"));
        }
        Ok(Some(Phone(p)))
    }
}

/// An e-mail address: one `@`, a dotted host, no blanks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn optional(value: Option<&str>) -> Result<Option<Self>, Invalid> {
        let Some(e) = Text::<254>::optional(value)?.map(Text::into_string) else {
            return Ok(None);
        };
        let valid = matches!(e.split_once('@'), Some((user, host))
            if !user.is_empty()
                && !host.contains('@')
                && host.split('.').count() >= 2
                && host.split('.').all(|label| !label.is_empty())
                && !e.contains(char::is_whitespace));
        if !valid {
            return Err(Invalid::new("is not an email address"));
        }
        Ok(Some(Email(e)))
    }
}

/// A reporter's checked details, as a submission carries them (the event
/// records a `Reporter`, linked to the citizen's account by the aggregate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "Reporter")]
pub struct Contact {
    name: Option<Title>,
    phone: Option<Phone>,
    email: Option<Email>,
}

impl Contact {
    /// Refusals name `name`, `phone` or `email`: the caller says whose they are.
    pub fn parse(
        name: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Result<Self, ComplaintError> {
        let phone = Phone::optional(phone).map_err(|e| e.at("phone"))?;
        let email = Email::optional(email).map_err(|e| e.at("email"))?;
        let name = Title::optional(name).map_err(|e| e.at("name"))?;
        Ok(Contact { name, phone, email })
    }

    /// The details as the event records them, linked to `subject`'s account.
    pub fn reporter(self, subject: Option<String>) -> Reporter {
        Reporter {
            subject,
            name: self.name.map(Text::into_string),
            phone: self.phone.map(|p| p.0),
            email: self.email.map(|e| e.0),
        }
    }
}

impl From<Contact> for Reporter {
    fn from(c: Contact) -> Reporter {
        c.reporter(None)
    }
}
