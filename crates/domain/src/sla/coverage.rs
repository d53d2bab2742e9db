//! Whether the holiday list covers the years deadlines are computed in. Public
//! holidays and joint leave (cuti bersama) are decreed year by year (SKB of the
//! Ministers of Religious Affairs, Manpower and PANRB), so a list runs out: on
//! a day of a year the list does not cover, a holiday counts as a working day
//! and every deadline across it comes too early, silently. This says so.
//!
//! A year is covered when the national list (`holidays` in config/sla.toml)
//! names at least one of its days: every year has some (1 January, 17 August,
//! 25 December), so a year with none was never entered. The city's own days
//! (`local_holidays`) do not count: one regional day says nothing about
//! whether the year's decree was entered.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// The years the national list names days of, in order.
    pub years: Vec<i32>,
    /// The last day of the last year listed.
    pub covered_until: Option<NaiveDate>,
    /// Of the current and the next year, those the list does not cover.
    pub missing: Vec<i32>,
}

impl Coverage {
    /// The coverage of `national` holidays on `today` (the city's local date).
    pub fn of(national: &[NaiveDate], today: NaiveDate) -> Coverage {
        let years: BTreeSet<i32> = national.iter().map(|d| d.year()).collect();
        let (this, next) = (today.year(), today.year() + 1);
        Coverage {
            covered_until: years
                .last()
                .and_then(|y| NaiveDate::from_ymd_opt(*y, 12, 31)),
            missing: [this, next]
                .into_iter()
                .filter(|y| !years.contains(y))
                .collect(),
            years: years.into_iter().collect(),
        }
    }

    pub fn covers_current_year(&self, today: NaiveDate) -> bool {
        !self.missing.contains(&today.year())
    }

    pub fn covers_next_year(&self, today: NaiveDate) -> bool {
        !self.missing.contains(&(today.year() + 1))
    }

    /// One sentence per missing year, for logs and `/readyz`; none when covered.
    pub fn warnings(&self, today: NaiveDate) -> Vec<String> {
        self.missing
            .iter()
            .map(|y| {
                let when = if *y == today.year() {
                    "this year: deadlines running now"
                } else {
                    "next year: deadlines reaching into it"
                };
                format!(
                    "the holiday calendar does not cover {y} ({when} count its public \
                     holidays and cuti bersama as working days); add {y}'s days as \
                     decreed to `holidays` in the SLA settings (docs/operations.md)"
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_list_of_this_year_only_misses_next_year() {
        let list = [d(2026, 1, 1), d(2026, 8, 17), d(2026, 12, 25)];
        let today = d(2026, 11, 30);
        let c = Coverage::of(&list, today);
        assert_eq!(c.years, [2026]);
        assert_eq!(c.covered_until, Some(d(2026, 12, 31)));
        assert_eq!(c.missing, [2027]);
        assert!(c.covers_current_year(today));
        assert!(!c.covers_next_year(today));
        let w = c.warnings(today);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("does not cover 2027"), "{w:?}");
    }

    #[test]
    fn from_the_first_of_january_the_current_year_is_missing_too() {
        let list = [d(2026, 1, 1), d(2026, 12, 25)];
        let today = d(2027, 1, 1);
        let c = Coverage::of(&list, today);
        assert_eq!(c.missing, [2027, 2028]);
        assert!(!c.covers_current_year(today));
        assert!(c.warnings(today)[0].contains("this year"));
    }

    #[test]
    fn two_listed_years_cover_both() {
        let list = [d(2026, 1, 1), d(2027, 1, 1)];
        let c = Coverage::of(&list, d(2026, 6, 1));
        assert!(c.missing.is_empty());
        assert!(c.warnings(d(2026, 6, 1)).is_empty());
        assert_eq!(c.covered_until, Some(d(2027, 12, 31)));
    }

    #[test]
    fn an_empty_list_covers_nothing() {
        let c = Coverage::of(&[], d(2026, 6, 1));
        assert_eq!(c.covered_until, None);
        assert_eq!(c.missing, [2026, 2027]);
    }
}
