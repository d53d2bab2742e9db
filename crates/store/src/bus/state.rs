//! The state a command is decided on: the cache's, a new submission's, or
//! the log's.

use aduan_audit::chain;
use aduan_domain::{Action, Complaint};

use super::{CommandRequest, Inner};
use crate::cache::CachedCase;
use crate::codec;
use crate::error::{CommandError, StoreError};

/// The state a command is decided on.
pub(super) struct State {
    pub(super) complaint: Complaint,
    pub(super) version: i64,
    /// The chain hash of the complaint's last event.
    pub(super) hash: String,
    /// Read from the log just now, not taken from the cache or assumed.
    pub(super) fresh: bool,
}

impl Inner {
    /// The state to decide on: the cache's, a submission's empty one, or the log's.
    pub(super) async fn state(
        &self,
        request: &CommandRequest,
        read_log: bool,
        trips: &mut u32,
    ) -> Result<State, CommandError> {
        let id = request.complaint_id.as_str();
        if !read_log {
            if let Some(cached) = self.cache.get(id) {
                return Ok(State {
                    complaint: cached.complaint,
                    version: cached.version,
                    hash: cached.hash,
                    fresh: false,
                });
            }
            if matches!(request.command.action, Action::Submit(_)) {
                // A new complaint's id is random, or derived from the command id,
                // when a retry finds it taken on the append and reads the log.
                return Ok(State {
                    complaint: Complaint::default(),
                    version: 0,
                    hash: chain::GENESIS.to_string(),
                    fresh: request.command_id.is_none(),
                });
            }
        } else {
            self.cache.forget(id);
        }
        *trips += 1;
        let history = self.log.load(id).await?;
        let version = history.last().map_or(0, |e| e.sequence);
        let hash = match history.last() {
            None => chain::GENESIS.to_string(),
            Some(last) => last.hash.clone().ok_or_else(|| {
                StoreError::Unavailable(
                    "the log has events not sealed into the audit chain yet; \
                     the server seals them at start"
                        .into(),
                )
            })?,
        };
        let complaint = codec::fold(&history);
        if version > 0 {
            self.cache.put(
                id,
                CachedCase {
                    complaint: complaint.clone(),
                    version,
                    hash: hash.clone(),
                },
            );
        }
        Ok(State {
            complaint,
            version,
            hash,
            fresh: true,
        })
    }
}
