//! A national platform in memory, speaking aduan's contract, with faults on
//! demand: `aduan dev national-platform` serves it (a development tool, outside the
//! shipped library) for the bridge's tests and
//! for trying the bridge by hand. It keeps the contract's rules (bearer token,
//! one result per Idempotency-Key, 404 for an unknown report, 409 for a stage
//! out of order) and can answer 500, hang past the client's timeout (after
//! recording a follow-up: the answer is lost, not the effect), re-deliver
//! reports on later pages, and shuffle pages.
//!
//! For tests: `GET /dev/state` shows every report, every follow-up recorded
//! (after de-duplication by key) per tracking id, and how many repeated keys
//! and faults it has seen; `POST /dev/reports` adds reports; `POST /dev/faults`
//! changes the fault rates (`{"failRate": 1}`: an outage until set back).

mod config;
mod feed;
mod routes;
mod seed;

pub use config::{FeedEnd, SimulatorConfig};
pub use feed::Received;
pub use routes::router;
