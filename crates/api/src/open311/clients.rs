//! Open311 clients and their API keys. A SUPERVISOR issues a key to a named
//! client (GraphQL `issueOpen311Key`): the key is shown in that answer only and
//! stored as its SHA-256, the document's key in `integration_state`, so a
//! request's key is found by one look-up and never kept in clear.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use aduan_domain::{Actor, Role};
use aduan_store::IntegrationState;
use aduan_store::{EventLog, StoreError};

const KIND: &str = "open311_client";

/// What an issued key starts with, so a leaked one is recognised in a log.
const PREFIX: &str = "o311_";

/// Longest client name.
pub const MAX_NAME: usize = 100;

/// A client, as listed (never its key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    /// 16 hex digits; part of the actor id its submissions carry.
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub revoked_by: Option<String>,
}

impl Client {
    /// Who its submissions are by: an integration, SYSTEM like the city's own
    /// bridges, named for the client (see docs/open311.md).
    pub fn actor(&self) -> Actor {
        Actor::new(format!("open311:{}", self.id), Role::System, None)
    }

    /// The `external_ref` its cases carry, which says which client filed one.
    pub fn external_ref(&self) -> String {
        format!("open311:{}", self.id)
    }
}

#[derive(Clone)]
pub struct Clients {
    state: IntegrationState,
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Other(format!("no randomness: {e}")))?;
    Ok(bytes)
}

impl Clients {
    pub fn for_log(log: &dyn EventLog) -> Clients {
        Clients {
            state: IntegrationState::for_log(log),
        }
    }

    /// A new client and its key (32 random bytes), which is not kept.
    pub async fn issue(&self, name: &str, by: &str) -> Result<(Client, String), StoreError> {
        let key = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(random::<32>()?));
        let client = Client {
            id: hex::encode(random::<8>()?),
            name: name.trim().to_string(),
            created_at: Utc::now(),
            created_by: by.to_string(),
            revoked_at: None,
            revoked_by: None,
        };
        self.state.put(KIND, &hash(&key), &client).await?;
        Ok((client, key))
    }

    /// The client a key belongs to, unless unknown or revoked.
    pub async fn authenticate(&self, key: &str) -> Result<Option<Client>, StoreError> {
        if !key.trim().starts_with(PREFIX) {
            return Ok(None);
        }
        let client: Option<Client> = self.state.get(KIND, &hash(key)).await?;
        Ok(client.filter(|c| c.revoked_at.is_none()))
    }

    /// Every client, revoked ones too, oldest first.
    pub async fn list(&self) -> Result<Vec<Client>, StoreError> {
        let mut all: Vec<Client> = self
            .state
            .list(KIND)
            .await?
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    /// Revokes client `id`'s key from now on; `None` when there is no such client.
    pub async fn revoke(&self, id: &str, by: &str) -> Result<Option<Client>, StoreError> {
        for (key, mut client) in self.state.list::<Client>(KIND).await? {
            if client.id != id {
                continue;
            }
            if client.revoked_at.is_none() {
                client.revoked_at = Some(Utc::now());
                client.revoked_by = Some(by.to_string());
                self.state.put(KIND, &key, &client).await?;
            }
            return Ok(Some(client));
        }
        Ok(None)
    }
}
