//! Hand-offs: a case moving from one holder to another (an OPD transferring it,
//! or returning it to the Command Center), each with a reason code from the
//! city's configuration, and the loops those moves make.
//!
//! A case that keeps moving is escalated once per loop it makes, so a case
//! cannot hide in transit while each holder's own clock looks fine.

mod legs;
mod reasons;
mod trail;

pub use legs::{legs, HoldLeg, LegEnd};
pub use reasons::{HandoffReason, HandoffRules, ReasonCode};
pub use trail::{HandoffLoop, HandoffTrail, COMMAND_CENTER};
