//! The pure domain of aduan: the `Complaint` aggregate, its commands, events and
//! errors, and the business rules that decide who may do what. No I/O lives here.

pub mod access;
pub mod actor;
pub mod aggregate;
pub mod attributes;
pub mod clock;
pub mod commands;
pub mod disclosure;
pub mod erasure;
pub mod error;
pub mod events;
pub mod geo;
pub mod handoffs;
pub mod ikm;
pub mod nearby;
pub mod numbering;
pub mod places;
pub mod reference;
pub mod rules;
pub mod search;
pub mod sla;
pub mod templates;
pub mod tracking;
pub mod values;

pub use access::{Access, Operation, Scope};
pub use actor::{Actor, Role};
pub use aggregate::{Case, Complaint};
pub use clock::{Clock, FixedClock, SystemClock};
pub use commands::*;
pub use error::{ComplaintError, ErrorCode, Misdirected};
pub use events::ComplaintEvent;
pub use handoffs::{HandoffLoop, ReasonCode};
pub use reference::{Bounds, Category, City, Kecamatan, Kelurahan, Opd, ReferenceData};
pub use rules::{ComplaintServices, Rules};
pub use values::*;
