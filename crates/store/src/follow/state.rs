//! Small documents the integration layer keeps between runs (webhook endpoints,
//! the national bridge's cursor and sync state, Open311 clients), by kind and
//! key, as JSON in `integration_state`. They describe deliveries, never
//! complaints: the event log stays the only record of what happened to a case.
//! The statements read the same on both databases (sqlx binds SQLite's `$N` by
//! number too).

use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::StoreError;
use crate::log::{Db, EventLog};

const GET: &str = "SELECT value FROM integration_state WHERE kind = $1 AND key = $2";
const PUT: &str = "INSERT INTO integration_state (kind, key, value, updated_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (kind, key) \
     DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
const LIST: &str = "SELECT key, value FROM integration_state WHERE kind = $1 ORDER BY key";
const DELETE: &str = "DELETE FROM integration_state WHERE kind = $1 AND key = $2";

#[derive(Clone)]
pub struct IntegrationState {
    db: Db,
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
        IntegrationState { db: log.db() }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let text: Option<String> = on_db!(&self.db, pool => sqlx::query_scalar(GET)
            .bind(kind)
            .bind(key)
            .fetch_optional(pool)
            .await)
        .map_err(StoreError::from_sqlx)?;
        match text {
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
        on_db!(&self.db, pool => sqlx::query(PUT)
            .bind(kind)
            .bind(key)
            .bind(&text)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(drop))
        .map_err(StoreError::from_sqlx)
    }

    /// Every document of `kind`, ordered by key.
    pub async fn list<T: DeserializeOwned>(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let rows: Vec<(String, String)> = on_db!(&self.db, pool => sqlx::query_as(LIST)
            .bind(kind)
            .fetch_all(pool)
            .await)
        .map_err(StoreError::from_sqlx)?;
        rows.into_iter()
            .map(|(key, text)| decode(kind, &key, &text).map(|v| (key, v)))
            .collect()
    }

    pub async fn delete(&self, kind: &str, key: &str) -> Result<(), StoreError> {
        on_db!(&self.db, pool => sqlx::query(DELETE)
            .bind(kind)
            .bind(key)
            .execute(pool)
            .await
            .map(drop))
        .map_err(StoreError::from_sqlx)
    }
}
