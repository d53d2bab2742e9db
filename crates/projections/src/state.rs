//! Small documents the integration layer keeps between runs (webhook endpoints,
//! the national bridge's cursor and sync state), by kind and key, as JSON in
//! `integration_state`. They describe deliveries, never complaints: the event
//! log stays the only record of what happened to a case.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use aduan_store::{EventLog, StoreError};

use crate::backend::{self, Backend};

#[derive(Clone)]
pub struct IntegrationState {
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for IntegrationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationState").finish_non_exhaustive()
    }
}

fn decode<T: DeserializeOwned>(kind: &str, key: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Other(format!("integration_state {kind}/{key}: {e}")))
}

impl IntegrationState {
    pub fn for_log(log: &dyn EventLog) -> IntegrationState {
        IntegrationState {
            backend: backend::for_log(log),
        }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.backend.state_get(kind, key).await? {
            Some(text) => decode(kind, key, &text).map(Some),
            None => Ok(None),
        }
    }

    pub async fn put<T: Serialize>(
        &self,
        kind: &str,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(value).map_err(|e| StoreError::Other(e.to_string()))?;
        self.backend.state_put(kind, key, &text).await
    }

    /// Every document of `kind`, ordered by key.
    pub async fn list<T: DeserializeOwned>(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.backend
            .state_list(kind)
            .await?
            .into_iter()
            .map(|(key, text)| decode(kind, &key, &text).map(|v| (key, v)))
            .collect()
    }

    pub async fn delete(&self, kind: &str, key: &str) -> Result<(), StoreError> {
        self.backend.state_delete(kind, key).await
    }
}
