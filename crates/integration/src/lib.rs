//! Events leaving aduan: the envelope every outbound channel sends
//! (`envelope`), and the channels themselves.

pub mod envelope;
pub mod nats;
pub mod relay;
pub mod webhooks;

pub use envelope::{Envelope, EnvelopeOptions};
pub use relay::NatsRelay;
pub use webhooks::Webhooks;
