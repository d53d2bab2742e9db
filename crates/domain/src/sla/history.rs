//! A business calendar with history. Holiday and working-hour changes are
//! versions, like policies: each holds from its `effective_from`, and each
//! says when it was decided. A case's clocks use the calendar as known when
//! its policy was chosen (the first dispatch, or the submission until then):
//! a change decided later never moves it, so a rebuild after adding a
//! version recomputes every case as before.
//!
//! Correcting the past (a change decided after its `effective_from`) moves
//! only the cases it was applied to: each carries the decision in its own
//! log (`CalendarCorrected`), appended after a what-if has shown which cases
//! the correction moves.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::BusinessCalendar;
use super::config::{CalendarConfig, ConfigError};

/// Where a case's clocks find their calendar.
pub trait Calendars {
    /// The calendar of a case whose policy was chosen at `chosen_at`, and
    /// its version; `corrected` is the version a recorded correction puts
    /// the case in (`CalendarCorrected`), if any.
    fn for_case(
        &self,
        corrected: Option<u32>,
        chosen_at: DateTime<Utc>,
    ) -> (u32, &BusinessCalendar);
}

/// One calendar for every case, for ever (version 1).
impl Calendars for BusinessCalendar {
    fn for_case(&self, _: Option<u32>, _: DateTime<Utc>) -> (u32, &BusinessCalendar) {
        (1, self)
    }
}

/// A change to the calendar as the settings write it (`[[calendar_changes]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarChange {
    /// 2, 3, ...: the settings' `[calendar]` is version 1.
    pub version: u32,
    pub effective_from: DateTime<Utc>,
    /// When the change was decided: cases whose policy was chosen earlier keep
    /// the calendar they had, unless `cases` names them.
    pub decided_at: DateTime<Utc>,
    pub reason: String,
    /// Replace the working days ("MON" ..).
    #[serde(default)]
    pub working_days: Option<Vec<String>>,
    /// Replace the working hours ("08:00-12:00" ..).
    #[serde(default)]
    pub working_hours: Option<Vec<String>>,
    #[serde(default)]
    pub add_holidays: Vec<NaiveDate>,
    #[serde(default)]
    pub add_local_holidays: Vec<NaiveDate>,
    /// Days that are no longer days off (a moved holiday's old date).
    #[serde(default)]
    pub remove_holidays: Vec<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarVersion {
    pub version: u32,
    pub effective_from: DateTime<Utc>,
    pub decided_at: DateTime<Utc>,
    pub config: CalendarConfig,
    pub calendar: BusinessCalendar,
}

impl CalendarVersion {
    /// Whether a case chosen at `chosen_at`, corrected to `corrected`, uses
    /// this version: known when the policy was chosen, or corrected to it
    /// (or to a later one, which builds on it).
    fn holds_for(&self, corrected: Option<u32>, chosen_at: DateTime<Utc>) -> bool {
        self.effective_from <= chosen_at
            && (self.decided_at <= chosen_at || corrected.is_some_and(|c| self.version <= c))
    }
}

/// Every calendar version, oldest first; each builds on the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarBook {
    versions: Vec<CalendarVersion>,
}

impl CalendarBook {
    /// The settings' calendar as version 1 and the changes after it, checked:
    /// versions 2, 3, ... in order, decided in that order, each building.
    pub fn new(base: &CalendarConfig, changes: &[CalendarChange]) -> Result<Self, ConfigError> {
        let first = CalendarVersion {
            version: 1,
            effective_from: DateTime::<Utc>::MIN_UTC,
            decided_at: DateTime::<Utc>::MIN_UTC,
            config: base.clone(),
            calendar: base.build()?,
        };
        let mut versions = vec![first];
        for change in changes {
            let last = &versions[versions.len() - 1];
            if change.version != last.version + 1 || change.decided_at < last.decided_at {
                return Err(ConfigError::CalendarChange(change.version));
            }
            let config = apply(&last.config, change);
            versions.push(CalendarVersion {
                version: change.version,
                effective_from: change.effective_from,
                decided_at: change.decided_at,
                calendar: config.build()?,
                config,
            });
        }
        Ok(CalendarBook { versions })
    }

    pub fn versions(&self) -> &[CalendarVersion] {
        &self.versions
    }

    /// The newest version: the calendar for cases from now on.
    pub fn latest(&self) -> &CalendarVersion {
        &self.versions[self.versions.len() - 1]
    }

    /// This book as if `version` had been known from its `effective_from`
    /// (as if decided then): what a correction would do to every case it
    /// reaches, for a what-if. `None` for a version the book lacks.
    pub fn as_if_known(&self, version: u32) -> Option<CalendarBook> {
        let mut book = self.clone();
        let v = book.versions.iter_mut().find(|v| v.version == version)?;
        v.decided_at = v.effective_from;
        Some(book)
    }
}

impl Calendars for CalendarBook {
    fn for_case(
        &self,
        corrected: Option<u32>,
        chosen_at: DateTime<Utc>,
    ) -> (u32, &BusinessCalendar) {
        let v = self
            .versions
            .iter()
            .rev()
            .find(|v| v.holds_for(corrected, chosen_at))
            .unwrap_or(&self.versions[0]);
        (v.version, &v.calendar)
    }
}

fn apply(before: &CalendarConfig, change: &CalendarChange) -> CalendarConfig {
    let mut c = before.clone();
    if let Some(days) = &change.working_days {
        c.working_days = days.clone();
    }
    if let Some(hours) = &change.working_hours {
        c.working_hours = hours.clone();
    }
    c.holidays.extend(&change.add_holidays);
    c.local_holidays.extend(&change.add_local_holidays);
    for list in [&mut c.holidays, &mut c.local_holidays] {
        list.retain(|d| !change.remove_holidays.contains(d));
        list.sort_unstable();
        list.dedup();
    }
    c
}
