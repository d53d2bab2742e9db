//! Deciding without appending: what a command would produce, or why it would
//! be refused, on the complaint as the log holds it now. Callers that must
//! refuse before doing something costly (storing an upload) ask here, so every
//! decision is made by the bus, on the state it would use.

use aduan_domain::{Command, ComplaintEvent};

use super::CommandBus;
use crate::codec;
use crate::error::CommandError;

impl CommandBus {
    /// Decides `command` on complaint `complaint_id` and returns the events it
    /// would append, appending nothing.
    ///
    /// The state is read from the log rather than the cache: a command refused
    /// on a cached state is confirmed against the log before the refusal
    /// stands, and a check has no append to confirm it with. The case can
    /// still change before the command itself runs.
    pub async fn check(
        &self,
        complaint_id: &str,
        command: Command,
    ) -> Result<Vec<ComplaintEvent>, CommandError> {
        let history = self.inner.log.load(complaint_id).await?;
        Ok(codec::fold(&history).decide_all(command, &self.inner.services)?)
    }
}
