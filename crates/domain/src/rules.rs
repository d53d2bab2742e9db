use std::sync::Arc;

use chrono::Duration;

use crate::clock::Clock;
use crate::numbering::CaseNumbering;
use crate::reference::ReferenceData;

/// Tunable business rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// How long after a closure the citizen may dispute it.
    pub reopen_window: Duration,
    /// How far in the future a field-handling time may lie (officers' phone clocks drift).
    pub clock_skew: Duration,
    /// How submitted cases are numbered (`numbering`).
    pub numbering: CaseNumbering,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            reopen_window: Duration::days(14),
            clock_skew: Duration::minutes(5),
            numbering: CaseNumbering::default(),
        }
    }
}

/// What the aggregate needs from outside: time, reference data and rules.
#[derive(Clone)]
pub struct ComplaintServices {
    pub clock: Arc<dyn Clock>,
    pub reference: Arc<ReferenceData>,
    pub rules: Rules,
}

impl ComplaintServices {
    pub fn new(clock: Arc<dyn Clock>, reference: Arc<ReferenceData>, rules: Rules) -> Self {
        ComplaintServices {
            clock,
            reference,
            rules,
        }
    }
}
