use serde::{Deserialize, Serialize};

use aduan_domain::Actor;

/// Where a command came from, beyond who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The interface the command arrived by: "graphql", "cli", "watcher", ...
    pub channel: String,
    /// Ties together everything one client request caused, across services.
    pub correlation_id: String,
}

/// What every stored event carries besides its payload. Stored as a JSON object of
/// strings, the shape cqrs-es's `EventEnvelope::metadata` expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Metadata {
    pub actor_id: String,
    pub actor_role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_opd: Option<String>,
    pub channel: String,
    pub correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    /// A digest of the command, so a reused command id with another body is caught.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_hash: Option<String>,
}

impl Metadata {
    pub fn new(
        actor: &Actor,
        context: &RequestContext,
        command_id: Option<&str>,
        command_hash: &str,
    ) -> Self {
        Metadata {
            actor_id: actor.id.clone(),
            actor_role: actor.role.as_str().to_string(),
            actor_opd: actor.opd.clone(),
            channel: context.channel.clone(),
            correlation_id: context.correlation_id.clone(),
            command_id: command_id.map(str::to_string),
            command_hash: command_id.map(|_| command_hash.to_string()),
        }
    }
}
