//! A request's parameters (query string or form body), as pairs in order, and
//! the checks several endpoints share.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::Refusal;

/// The longest window `start_date`..`end_date` may span.
pub const MAX_DAYS: i64 = 90;

/// The most ids one `service_request_id` list may name.
pub const MAX_IDS: usize = 1000;

pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(bytes: &[u8]) -> Params {
        Params(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// `attribute[code]=value` pairs (`attribute[code][]` for a list's several
    /// values) as (code, value).
    pub fn attributes(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|(k, v)| {
                let code = k.strip_prefix("attribute[")?;
                let code = code.strip_suffix("[]").unwrap_or(code).strip_suffix(']')?;
                Some((code.to_string(), v.clone()))
            })
            .collect()
    }

    /// A comma-separated list (`service_code=A,B`; the parameter repeated too).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// An instant: W3C date and time (`2026-11-30T08:00:00+08:00`), or a day
    /// (its start, UTC). A `+` sent unencoded arrives as a space.
    pub fn instant(&self, name: &str) -> Result<Option<DateTime<Utc>>, Refusal> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        let text = text.replace(' ', "+");
        if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Some(t.and_utc()))
            .ok_or_else(|| {
                Refusal::bad_request(format!(
                    "{name} must be a W3C date and time, such as 2026-11-30T08:00:00+08:00"
                ))
            })
    }

    /// `[start_date, end_date)`: at most `MAX_DAYS` long; a missing end is now,
    /// a missing start is `default_days` before the end.
    pub fn window(
        &self,
        now: DateTime<Utc>,
        default_days: i64,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), Refusal> {
        let end = self.instant("end_date")?.unwrap_or(now);
        let start = self
            .instant("start_date")?
            .unwrap_or(end - Duration::days(default_days));
        if start > end {
            return Err(Refusal::bad_request("start_date is after end_date"));
        }
        if end - start > Duration::days(MAX_DAYS) {
            return Err(Refusal::bad_request(format!(
                "start_date and end_date may be at most {MAX_DAYS} days apart"
            )));
        }
        Ok((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_lists_are_read_from_pairs() {
        let p = Params::parse(
            b"attribute%5Bkind%5D=hole&attribute[tags][]=a&attribute[tags][]=b&service_code=A,B&x=1",
        );
        assert_eq!(
            p.attributes(),
            [
                ("kind".to_string(), "hole".to_string()),
                ("tags".to_string(), "a".to_string()),
                ("tags".to_string(), "b".to_string())
            ]
        );
        assert_eq!(p.list("service_code"), ["A", "B"]);
        assert_eq!(p.get("x"), Some("1"));
        assert_eq!(p.get("y"), None);
    }

    #[test]
    fn windows_are_at_most_ninety_days() {
        let now = Utc::now();
        let p = Params::parse(b"start_date=2026-01-01T00:00:00+08:00&end_date=2026-03-01");
        let (start, end) = p.window(now, 90).unwrap();
        assert_eq!(start.to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-03-01T00:00:00+00:00");
        let long = Params::parse(b"start_date=2026-01-01&end_date=2026-06-01");
        assert!(long.window(now, 90).is_err());
        let backwards = Params::parse(b"start_date=2026-02-01&end_date=2026-01-01");
        assert!(backwards.window(now, 90).is_err());
        let garbage = Params::parse(b"start_date=yesterday");
        assert!(garbage.window(now, 90).is_err());
        let unencoded = Params::parse(b"start_date=2026-01-01T00:00:00+08:00");
        assert_eq!(
            unencoded
                .instant("start_date")
                .unwrap()
                .unwrap()
                .to_rfc3339(),
            "2025-12-31T16:00:00+00:00"
        );
    }
}
