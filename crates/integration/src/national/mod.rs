//! The bridge to the national complaint platform (SP4N-LAPOR!): reports the
//! platform disposes to the city come in as cases (`inbound`), the city's
//! milestones go back as follow-ups (`outbound`), and `sync` tells where the
//! two disagree. The platform is reached through an adapter trait
//! (`adapter`); `http` speaks aduan's contract (`contract`), which the
//! simulator (`aduan-national-sim`) serves for tests and for trying the bridge
//! by hand.

pub mod adapter;
pub mod contract;
pub mod feed;
pub mod http;
pub mod inbound;
pub mod outbound;
pub mod state;
pub mod sync;

pub use adapter::{NationalError, NationalPlatform};
pub use contract::{Followup, FollowupOutcome, Page, Report, Stage};
pub use http::HttpPlatform;
pub use inbound::{CategoryMap, Inbound};
pub use outbound::{Backoff, Outbound};
pub use state::{Issue, Reason};
