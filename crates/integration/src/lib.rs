//! Events leaving aduan: the envelope every outbound channel sends
//! (`envelope`), and the channels themselves.

pub mod envelope;
pub mod nats;

pub use envelope::{Envelope, EnvelopeOptions};
