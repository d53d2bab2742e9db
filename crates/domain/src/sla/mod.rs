//! SLA arithmetic: business calendars, paused clocks, and the explanation a
//! supervisor can read. Pure functions of event timestamps, so replaying the same
//! events always gives the same deadlines.

pub mod calendar;
pub mod case;
pub mod config;
pub mod coverage;
pub mod history;
pub mod policy;
pub mod timer;
pub mod whatif;

pub use calendar::{BusinessCalendar, CalendarError, Explanation, Pause, Span};
pub use case::CaseSla;
pub use config::{CalendarConfig, ConfigError, SlaConfig};
pub use coverage::Coverage;
pub use history::{CalendarBook, CalendarChange, CalendarVersion, Calendars};
pub use policy::{Leg, Policy, PolicyBook, PolicyError, Rule, Target, Unit};
pub use timer::{state_at, state_since, timers, LegTimer, TimerState};
pub use whatif::{
    outcome, CaseOutcome, Comparison, Figures, GroupFigures, Outcome, Period, Replay, Side,
};
