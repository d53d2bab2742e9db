//! Case numbers people can say: `MKS-2026-004512`, the city's prefix, the year
//! the case was submitted in (the city's local year) and its place in that
//! year's count. Unique and rising within a year; a submission that is refused
//! after its number was drawn leaves a gap, which is allowed.
//!
//! The number is a handle for the phone and the counter, not a secret: the
//! tracking code stays what lets someone follow a case without an account.

use chrono::{DateTime, Datelike, FixedOffset, Offset, Utc};

/// At least this many digits, zero-padded; a city past a million cases in a
/// year gets longer numbers, never wrapped ones.
const DIGITS: usize = 6;

/// The prefix of a city that has set none.
pub const DEFAULT_PREFIX: &str = "ADU";

/// How a city numbers its cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumbering {
    prefix: String,
    offset: FixedOffset,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a case number prefix is 2 to 8 letters A-Z, not {0:?}")]
pub struct BadPrefix(pub String);

impl Default for CaseNumbering {
    /// `ADU`, years in UTC: for tests and a city that has set none.
    fn default() -> Self {
        CaseNumbering {
            prefix: DEFAULT_PREFIX.into(),
            offset: Utc.fix(),
        }
    }
}

impl CaseNumbering {
    pub fn new(prefix: &str, offset: FixedOffset) -> Result<Self, BadPrefix> {
        let valid =
            (2..=8).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_uppercase());
        if !valid {
            return Err(BadPrefix(prefix.to_string()));
        }
        Ok(CaseNumbering {
            prefix: prefix.to_string(),
            offset,
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The city's year at `now`: whose count a submission at `now` takes from.
    pub fn year(&self, now: DateTime<Utc>) -> i32 {
        now.with_timezone(&self.offset).year()
    }

    /// The `count`-th number of `year`.
    pub fn format(&self, year: i32, count: i64) -> String {
        format!("{}-{year:04}-{count:0DIGITS$}", self.prefix)
    }
}

/// A case number as someone typed or read it out: trimmed, any case, with
/// or without the leading zeros (`mks-2026-4512` is `MKS-2026-004512`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a case number (like MKS-2026-004512): {0:?}")]
pub struct BadCaseNumber(pub String);

impl CaseNumber {
    pub fn parse(text: &str) -> Result<CaseNumber, BadCaseNumber> {
        let bad = || BadCaseNumber(text.chars().take(40).collect());
        let upper = text.trim().to_ascii_uppercase();
        let mut parts = upper.split('-');
        let (Some(prefix), Some(year), Some(count), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let numbering = CaseNumbering::new(prefix, Utc.fix()).map_err(|_| bad())?;
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if year.len() != 4 || !digits(year, 4) || !digits(count, 12) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let count: i64 = count.parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(bad());
        }
        Ok(CaseNumber(numbering.format(year, count)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn makassar() -> CaseNumbering {
        CaseNumbering::new("MKS", FixedOffset::east_opt(8 * 3600).unwrap()).unwrap()
    }

    #[test]
    fn numbers_are_padded_to_six_digits_and_grow_past_them() {
        assert_eq!(makassar().format(2026, 4512), "MKS-2026-004512");
        assert_eq!(makassar().format(2026, 1_234_567), "MKS-2026-1234567");
    }

    #[test]
    fn the_year_is_the_citys_local_year() {
        // 16:30 UTC on 31 December is already 1 January in Makassar (UTC+8).
        let new_year = Utc.with_ymd_and_hms(2026, 12, 31, 16, 30, 0).unwrap();
        assert_eq!(makassar().year(new_year), 2027);
        assert_eq!(CaseNumbering::default().year(new_year), 2026);
    }

    #[test]
    fn what_a_caller_reads_out_parses_to_the_stored_spelling() {
        for spoken in ["MKS-2026-004512", " mks-2026-4512 ", "Mks-2026-0004512"] {
            assert_eq!(
                CaseNumber::parse(spoken).unwrap().as_str(),
                "MKS-2026-004512"
            );
        }
    }

    #[test]
    fn other_texts_are_not_case_numbers() {
        for text in [
            "",
            "MKS-2026",
            "MKS-26-004512",
            "MKS-2026-000000",
            "MKS-2026-00451X",
            "M-2026-004512",
            "MKS2026004512",
            "MKS-2026-004512-1",
            "ÄKS-2026-004512",
            "jalan rusak",
        ] {
            assert!(CaseNumber::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_prefix_is_two_to_eight_capital_letters() {
        let utc = FixedOffset::east_opt(0).unwrap();
        assert!(CaseNumbering::new("MKS", utc).is_ok());
        for bad in ["", "M", "mks", "MK5", "ABCDEFGHI", "MK S"] {
            assert!(CaseNumbering::new(bad, utc).is_err(), "{bad:?}");
        }
    }
}
