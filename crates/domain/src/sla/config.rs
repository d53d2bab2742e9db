//! The SLA settings file (config/sla.toml) as data: parsed by the caller, checked here.

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::calendar::{BusinessCalendar, CalendarError};
use super::history::{CalendarBook, CalendarChange};
use super::policy::{Policy, PolicyBook, PolicyError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaConfig {
    pub calendar: CalendarConfig,
    pub policies: Vec<Policy>,
    /// The calendar's later versions (`history`), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calendar_changes: Vec<CalendarChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarConfig {
    /// For people; arithmetic uses `utc_offset`.
    pub timezone: String,
    /// "+08:00"
    pub utc_offset: String,
    /// "MON" .. "SUN"
    pub working_days: Vec<String>,
    /// "08:00-12:00"
    pub working_hours: Vec<String>,
    /// National public holidays and joint leave (cuti bersama), as decreed
    /// year by year; the years they name are the years the calendar covers
    /// (see `coverage`).
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// The city's own days off (regional holidays, local decisions): counted
    /// like the national ones, but they do not make a year covered.
    #[serde(default)]
    pub local_holidays: Vec<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("bad UTC offset {0:?}: expected +HH:MM or -HH:MM")]
    Offset(String),
    #[error("bad working day {0:?}: expected MON, TUE, ... SUN")]
    Day(String),
    #[error("bad working hours {0:?}: expected HH:MM-HH:MM")]
    Hours(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("calendar change {0}: versions go 2, 3, ... in the order they were decided")]
    CalendarChange(u32),
}

impl SlaConfig {
    /// The newest calendar and the policy book, every calendar version checked.
    pub fn build(&self) -> Result<(BusinessCalendar, PolicyBook), ConfigError> {
        let calendars = self.calendars()?;
        Ok((
            calendars.latest().calendar.clone(),
            PolicyBook::new(self.policies.clone())?,
        ))
    }

    /// Every calendar version: what SLA clocks count in.
    pub fn calendars(&self) -> Result<CalendarBook, ConfigError> {
        CalendarBook::new(&self.calendar, &self.calendar_changes)
    }
}

impl CalendarConfig {
    pub fn build(&self) -> Result<BusinessCalendar, ConfigError> {
        let offset = parse_offset(&self.utc_offset)
            .ok_or_else(|| ConfigError::Offset(self.utc_offset.clone()))?;
        let days = self
            .working_days
            .iter()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|_| ConfigError::Day(d.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let hours = self
            .working_hours
            .iter()
            .map(|h| parse_window(h).ok_or_else(|| ConfigError::Hours(h.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BusinessCalendar::new(
            offset,
            &days,
            &hours,
            self.holidays.iter().chain(&self.local_holidays).copied(),
        )?)
    }

    /// Which years the national list covers, seen from `today` (local date).
    pub fn coverage(&self, today: NaiveDate) -> super::Coverage {
        super::Coverage::of(&self.holidays, today)
    }

    /// The city's UTC offset, if `utc_offset` is well formed.
    pub fn offset(&self) -> Option<chrono::FixedOffset> {
        chrono::FixedOffset::east_opt(parse_offset(&self.utc_offset)?)
    }

    /// The city's local date at `now`.
    pub fn local_date(&self, now: chrono::DateTime<chrono::Utc>) -> Option<NaiveDate> {
        Some(now.with_timezone(&self.offset()?).date_naive())
    }
}

fn parse_offset(s: &str) -> Option<i32> {
    let sign = match s.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let minutes = parse_clock(&s[1..])?;
    Some(sign * minutes as i32 * 60)
}

fn parse_window(s: &str) -> Option<(u32, u32)> {
    let (start, end) = s.split_once('-')?;
    Some((parse_clock(start.trim())?, parse_clock(end.trim())?))
}

/// "HH:MM" as minutes from midnight; "24:00" allowed as the end of a day.
fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_offsets_and_windows_parse() {
        assert_eq!(parse_offset("+08:00"), Some(8 * 3600));
        assert_eq!(parse_offset("-03:30"), Some(-(3 * 3600 + 1800)));
        assert_eq!(parse_offset("08:00"), None);
        assert_eq!(parse_window("08:00-16:00"), Some((480, 960)));
        assert_eq!(parse_window("00:00-24:00"), Some((0, 1440)));
        assert_eq!(parse_window("08:00-24:30"), None);
        assert_eq!(parse_window("8-16"), None);
    }
}
