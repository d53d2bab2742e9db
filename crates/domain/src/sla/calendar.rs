//! Working time in a city's timezone: working days, working hours and public
//! holidays. Times are minutes from local midnight; the timezone is a fixed
//! offset because Indonesia's zones (WIB, WITA, WIT) have no daylight saving.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// A half-open stretch of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Span {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Span {
        Span { start, end }
    }

    pub fn len(&self) -> Duration {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// A span during which a clock stood still, and why (for the explanation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub span: Span,
    pub reason: String,
}

/// How a measured duration came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The working spans that counted.
    pub counted: Vec<Span>,
    /// The pauses that fell inside the measured stretch.
    pub paused: Vec<Pause>,
    /// Holidays on otherwise working days that were skipped.
    pub holidays_skipped: Vec<NaiveDate>,
    pub total_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("working hours {0}..{1} are not a window within one day (minutes 0..=1440)")]
    BadWindow(u32, u32),
    #[error("working hours overlap or are out of order")]
    Overlap,
    #[error("a calendar needs at least one working day with working hours")]
    NoWorkingTime,
    #[error("offset of {0} seconds is not a valid UTC offset")]
    BadOffset(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    offset: FixedOffset,
    working_days: BTreeSet<u32>,
    /// Working windows of a working day, minutes from local midnight, sorted.
    windows: Vec<(u32, u32)>,
    holidays: BTreeSet<NaiveDate>,
}

const DAY_MINUTES: u32 = 24 * 60;

impl BusinessCalendar {
    pub fn new(
        utc_offset_seconds: i32,
        working_days: &[Weekday],
        windows: &[(u32, u32)],
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<BusinessCalendar, CalendarError> {
        let offset = FixedOffset::east_opt(utc_offset_seconds)
            .ok_or(CalendarError::BadOffset(utc_offset_seconds))?;
        let mut sorted = windows.to_vec();
        sorted.sort_unstable();
        if let Some(&(s, e)) = sorted.iter().find(|(s, e)| s >= e || *e > DAY_MINUTES) {
            return Err(CalendarError::BadWindow(s, e));
        }
        if sorted.windows(2).any(|w| w[0].1 > w[1].0) {
            return Err(CalendarError::Overlap);
        }
        if working_days.is_empty() || sorted.is_empty() {
            return Err(CalendarError::NoWorkingTime);
        }
        Ok(BusinessCalendar {
            offset,
            working_days: working_days
                .iter()
                .map(|d| d.num_days_from_monday())
                .collect(),
            windows: sorted,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// Every minute counts: for emergencies and legs defined in calendar time.
    #[allow(
        clippy::expect_used,
        reason = "a calendar open all day every day is valid"
    )]
    pub fn continuous() -> BusinessCalendar {
        let all = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        Self::new(0, &all, &[(0, DAY_MINUTES)], []).expect("a valid calendar")
    }

    fn is_working_day(&self, date: NaiveDate) -> bool {
        self.working_days
            .contains(&date.weekday().num_days_from_monday())
    }

    fn is_holiday(&self, date: NaiveDate) -> bool {
        self.is_working_day(date) && self.holidays.contains(&date)
    }

    /// The working spans of one local date, in UTC.
    #[allow(
        clippy::expect_used,
        reason = "midnight exists on every date, and a fixed offset has no gaps"
    )]
    fn spans_on(&self, date: NaiveDate) -> Vec<Span> {
        if !self.is_working_day(date) || self.holidays.contains(&date) {
            return Vec::new();
        }
        let midnight = self
            .offset
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .single()
            .expect("a fixed offset has no gaps")
            .with_timezone(&Utc);
        self.windows
            .iter()
            .map(|&(s, e)| {
                Span::new(
                    midnight + Duration::minutes(i64::from(s)),
                    midnight + Duration::minutes(i64::from(e)),
                )
            })
            .collect()
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.offset).date_naive()
    }

    /// Working spans from `from` onwards, clipped to start at `from`, with the
    /// pauses cut out. Endless: callers stop when they have what they need.
    fn counting_spans<'a>(
        &'a self,
        from: DateTime<Utc>,
        pauses: &'a [Pause],
    ) -> impl Iterator<Item = Span> + 'a {
        let first = self.local_date(from);
        first
            .iter_days()
            .flat_map(move |date| self.spans_on(date))
            .filter(move |s| s.end > from)
            .map(move |s| Span::new(s.start.max(from), s.end))
            .flat_map(move |s| subtract(s, pauses))
    }

    /// The instant by which `amount` of working time has passed after `start`,
    /// not counting the pauses. Always inside (or at the end of) a working window.
    pub fn add(&self, start: DateTime<Utc>, amount: Duration, pauses: &[Pause]) -> DateTime<Utc> {
        if amount <= Duration::zero() {
            return start;
        }
        let mut remaining = amount;
        for span in self.counting_spans(start, pauses) {
            if span.len() >= remaining {
                return span.start + remaining;
            }
            remaining -= span.len();
        }
        unreachable!("a calendar with working time has endless working spans")
    }

    /// Working time between two instants, not counting the pauses.
    pub fn measure(&self, from: DateTime<Utc>, to: DateTime<Utc>, pauses: &[Pause]) -> Duration {
        self.explain(from, to, pauses).total()
    }

    /// The working time between two instants with the spans that made it up.
    pub fn explain(&self, from: DateTime<Utc>, to: DateTime<Utc>, pauses: &[Pause]) -> Explanation {
        let counted: Vec<Span> = if to <= from {
            Vec::new()
        } else {
            self.counting_spans(from, pauses)
                .take_while(|s| s.start < to)
                .map(|s| Span::new(s.start, s.end.min(to)))
                .collect()
        };
        let paused = pauses
            .iter()
            .filter(|p| p.span.end > from && p.span.start < to)
            .cloned()
            .collect();
        let holidays_skipped = if to <= from {
            Vec::new()
        } else {
            self.local_date(from)
                .iter_days()
                .take_while(|d| *d <= self.local_date(to))
                .filter(|d| self.is_holiday(*d))
                .collect()
        };
        let total_seconds = counted.iter().map(|s| s.len().num_seconds()).sum();
        Explanation {
            counted,
            paused,
            holidays_skipped,
            total_seconds,
        }
    }

    /// The city's UTC offset.
    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// The working time of one full working day.
    pub fn working_day_length(&self) -> Duration {
        let minutes: u32 = self.windows.iter().map(|(s, e)| e - s).sum();
        Duration::minutes(i64::from(minutes))
    }

    /// True when `t` lies in a working window (ends included).
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let date = self.local_date(t);
        [date.pred_opt(), Some(date)]
            .into_iter()
            .flatten()
            .flat_map(|d| self.spans_on(d))
            .any(|s| s.start <= t && t <= s.end)
    }
}

impl Explanation {
    pub fn total(&self) -> Duration {
        Duration::seconds(self.total_seconds)
    }
}

/// The parts of `span` not covered by any pause.
fn subtract(span: Span, pauses: &[Pause]) -> Vec<Span> {
    let mut covering: Vec<Span> = pauses
        .iter()
        .map(|p| p.span)
        .filter(|p| p.end > span.start && p.start < span.end)
        .collect();
    covering.sort();
    let mut out = Vec::new();
    let mut cursor = span.start;
    for p in covering {
        if p.start > cursor {
            out.push(Span::new(cursor, p.start));
        }
        cursor = cursor.max(p.end);
    }
    if cursor < span.end {
        out.push(Span::new(cursor, span.end));
    }
    out
}
