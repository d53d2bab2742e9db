//! The read side: the durable projector and the projections it maintains, plus
//! the per-request views (current state, auditor history).

mod backend;
pub mod dashboard;
pub mod handoffs;
pub mod history;
pub mod hotspots_query;
pub mod incident;
pub mod live;
pub mod near;
mod pg;
pub mod projector;
pub mod reads;
pub mod rebuild;
pub mod replicas;
pub mod rollup;
pub mod rollup_fold;
pub mod rollup_reads;
pub mod rows;
pub mod search_query;
mod shared;
pub mod sla_alerts;
pub mod sla_query;
pub mod sla_sweep;
pub mod sla_timers;
mod sqlite;
pub mod summary;
pub mod summary_order;
pub mod summary_query;
pub mod survey;
pub mod view;
pub mod watcher;

pub use backend::Connections;
pub use handoffs::HandoffLegs;
pub use history::HistoryEntry;
pub use live::LiveFeed;
pub use projector::{Projection, Projector};
pub use reads::Reads;
pub use rebuild::{rebuild, RebuildReport};
pub use replicas::ReadReplicas;
pub use sla_timers::SlaTimers;
pub use summary::ComplaintSummary;
pub use survey::SurveyResponses;
pub use view::ComplaintView;
pub use watcher::{WatchReport, Watcher};

/// Both projections, on a business calendar (or a calendar with history) and
/// an SLA policy book.
pub fn projections(
    calendar: std::sync::Arc<dyn aduan_domain::sla::Calendars + Send + Sync>,
    book: std::sync::Arc<aduan_domain::sla::PolicyBook>,
) -> (ComplaintSummary, SlaTimers) {
    (
        ComplaintSummary::new(calendar.clone(), book.clone()),
        SlaTimers::new(calendar, book),
    )
}
