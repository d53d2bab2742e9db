//! The read side. For now: the complaint view folded from its events and the
//! auditor's history view. Durable projection tables come with the projector.

pub mod history;
pub mod view;

pub use history::HistoryEntry;
pub use view::ComplaintView;
