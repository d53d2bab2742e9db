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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_as_people_write_them() {
        assert_eq!(Phone::optional(None), Ok(None));
        assert_eq!(Phone::optional(Some("  ")), Ok(None));
        for ok in [
            "+62 811-4000-123",
            "(0411) 123456",
            "081140001234567",
            "123456",
        ] {
            assert!(Phone::optional(Some(ok)).unwrap().is_some(), "{ok}");
        }
        let not_a_phone = Err(Invalid::new("is not a phone number"));
        // Letters; too few digits (5) or too many (16); other signs.
        for bad in [
            "call me maybe",
            "+62 811",
            "12345",
            "1234567890123456",
            "0811/4000",
        ] {
            assert_eq!(Phone::optional(Some(bad)), not_a_phone, "{bad}");
        }
        // Longer than 32 characters is refused as a text first.
        assert_eq!(
            Phone::optional(Some(&"1".repeat(33))),
            Err(Invalid::new("is 33 characters long; the limit is 32"))
        );
    }

    #[test]
    fn email_addresses_have_one_at_and_a_dotted_host() {
        assert_eq!(Email::optional(None), Ok(None));
        assert_eq!(Email::optional(Some("\u{0}")), Ok(None));
        assert!(Email::optional(Some(" andi@example.id "))
            .unwrap()
            .is_some());
        for bad in [
            "andi@",
            "a@b@c.id",
            "andi@example.",
            "andi@.id",
            "an di@x.id",
            "andi.example.id",
            "@example.id",
            "andi@localhost",
        ] {
            assert_eq!(
                Email::optional(Some(bad)),
                Err(Invalid::new("is not an email address")),
                "{bad} accepted"
            );
        }
        let long = format!("{}@example.id", "a".repeat(244));
        assert_eq!(
            Email::optional(Some(&long)),
            Err(Invalid::new("is 255 characters long; the limit is 254"))
        );
    }

    #[test]
    fn a_contact_names_the_refused_part_and_checks_phone_then_email_then_name() {
        let contact = Contact::parse(Some(" Andi "), Some("+62 811-4000-123"), None).unwrap();
        assert_eq!(
            contact.reporter(Some("citizen-andi".into())),
            Reporter {
                subject: Some("citizen-andi".into()),
                name: Some("Andi".into()),
                phone: Some("+62 811-4000-123".into()),
                email: None,
            }
        );
        let nobody = Contact::parse(Some(" "), None, Some("")).unwrap();
        assert_eq!(
            Reporter::from(nobody),
            Reporter {
                subject: None,
                name: None,
                phone: None,
                email: None,
            }
        );
        let long_name = "n".repeat(201);
        assert_eq!(
            Contact::parse(Some(&long_name), None, None),
            Err(ComplaintError::invalid(
                "name",
                "is 201 characters long; the limit is 200"
            ))
        );
        assert_eq!(
            Contact::parse(Some(&long_name), Some("x"), Some("y")),
            Err(ComplaintError::invalid("phone", "is not a phone number"))
        );
        assert_eq!(
            Contact::parse(Some(&long_name), None, Some("y")),
            Err(ComplaintError::invalid("email", "is not an email address"))
        );
    }
}
