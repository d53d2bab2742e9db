//! Links to photos or documents kept elsewhere (stored as given, never fetched).

use serde::Serialize;

use super::text::Text;
use super::Invalid;

pub const MAX_ATTACHMENTS: usize = 10;
pub const MAX_URL: usize = 2000;

/// At most `MAX_ATTACHMENTS` http(s) URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Links(Vec<String>);

impl Links {
    pub fn parse(urls: &[String]) -> Result<Self, Invalid> {
        if urls.len() > MAX_ATTACHMENTS {
            return Err(Invalid::new(format!(
                "at most {MAX_ATTACHMENTS} are allowed"
            )));
        }
        urls.iter()
            .map(|u| {
                let u = Text::<MAX_URL>::parse(u)?.into_string();
                if u.starts_with("https://") || u.starts_with("http://") {
                    Ok(u)
                } else {
                    Err(Invalid::new("must be http(s) URLs"))
                }
            })
            .collect::<Result<_, _>>()
            .map(Links)
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_must_be_http_urls_and_few() {
        assert!(Links::parse(&["https://x.id/1.jpg".into()]).is_ok());
        assert!(Links::parse(&["file:///etc/passwd".into()]).is_err());
        assert!(Links::parse(&vec!["https://x.id/1.jpg".to_string(); 11]).is_err());
    }

    #[test]
    fn links_are_cleaned_and_refused_with_the_rule_they_break() {
        let kept = Links::parse(&[" http://x.id/a.jpg\n".into()]).unwrap();
        assert_eq!(kept.into_vec(), vec!["http://x.id/a.jpg".to_string()]);
        assert_eq!(Links::parse(&[]).map(Links::into_vec), Ok(vec![]));
        let ten = vec!["https://x.id/1.jpg".to_string(); MAX_ATTACHMENTS];
        assert!(Links::parse(&ten).is_ok());
        let mut eleven = ten;
        eleven.push("not even a URL".into());
        assert_eq!(
            Links::parse(&eleven),
            Err(Invalid::new("at most 10 are allowed"))
        );
        for (urls, message) in [
            (
                vec!["https://x.id/1.jpg".into(), " ".into()],
                "must not be empty",
            ),
            (vec!["ftp://x.id/1.jpg".into()], "must be http(s) URLs"),
            (vec!["HTTPS://x.id/1.jpg".into()], "must be http(s) URLs"),
            (
                vec![format!("https://x.id/{}", "a".repeat(1988))],
                "is 2001 characters long; the limit is 2000",
            ),
        ] {
            assert_eq!(Links::parse(&urls), Err(Invalid::new(message)), "{urls:?}");
        }
    }
}
