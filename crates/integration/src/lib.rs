//! Events leaving aduan: the envelope every outbound channel sends
//! (`envelope`), and the channels themselves.

pub mod envelope;
pub mod nats;
pub mod relay;

pub use envelope::{Envelope, EnvelopeOptions};
pub use relay::NatsRelay;
