//! Events leaving aduan: the envelope every outbound channel sends
//! (`envelope`), and the channels themselves; and the bridge to the national
//! complaint platform (`national`), which also brings reports in; and the
//! notifications to reporters (`notify`).

pub mod envelope;
pub mod national;
pub mod nats;
pub mod notify;
pub mod relay;
pub mod webhooks;

pub use envelope::{Envelope, EnvelopeOptions};
pub use relay::NatsRelay;
pub use webhooks::Webhooks;
