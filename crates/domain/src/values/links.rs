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
}
