//! Personal data sealed per complaint, so that erasing it destroys a key and
//! never edits an event (crypto-shredding; see docs/erasure.md).
//!
//! Which fields are personal is the domain's (`aduan_domain::erasure`). Each
//! such field of an event is sealed between `codec::encode` and the append:
//! its string is replaced, in place, by
//!
//! ```json
//! {"sealed": 1, "key": "<key id>", "nonce": "<base64, 24 bytes>", "data": "<base64>"}
//! ```
//!
//! `data` is the XChaCha20-Poly1305 ciphertext and tag of the UTF-8 text under
//! the key `key`, with associated data naming the complaint, the event's
//! sequence, its type and the field (`associated_data`): a sealed value moved
//! to another field, event or complaint does not open. Events that hold
//! personal fields are written at version 2 (`PERSONAL_EVENT_VERSION`); a
//! version 1 payload has them all in plain text.
//!
//! Keys live in `personal_keys` (one row per key: a random id, the complaint,
//! the reporter reference it is erased by, the secret, and once erased the
//! time and reason instead of the secret). A complaint gets a key with its
//! first sealed field; the key row is written in the same transaction as the
//! events that first use it (`pending_for`), so no ciphertext is ever stored
//! without its key. Readers open sealed fields after a row is read and before
//! it is decoded (`open_rows`): a destroyed key reads as `ERASED`, a missing key
//! or a ciphertext that does not authenticate as `UNREADABLE`, never an error.
//!
//! Each process caches keys: an erased key forever, a live one for `LIVE_TTL`,
//! so an erasure made by another server process is in force here within it.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use cqrs_es::persist::SerializedEvent;
use lru::LruCache;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use aduan_domain::erasure::{self, PersonalField, ERASED, UNREADABLE};
use aduan_domain::Case;

use crate::codec::Row;
use crate::error::StoreError;
use crate::log::Db;

/// How long this process trusts a live key it read before asking again.
pub const LIVE_TTL: Duration = Duration::from_secs(30);

/// Keys a process keeps in memory.
const CACHED_KEYS: usize = 200_000;

/// Key ids per look-up statement (well below both databases' parameter limits).
const LOOKUP_CHUNK: usize = 1000;

/// A key row as stored and as exported: `secret` is `None` once erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key_id: String,
    pub complaint_id: String,
    pub reporter_ref: String,
    /// Base64 of the 32-byte key; `None` when erased.
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
    pub erase_reason: Option<String>,
}

#[derive(Clone)]
enum Cached {
    Live {
        cipher: Box<XChaCha20Poly1305>,
        at: Instant,
    },
    Erased,
    /// No such key: a row copied from elsewhere, or a damaged import.
    Missing {
        at: Instant,
    },
}

struct Keys {
    by_id: LruCache<String, Cached>,
    /// The key this process seals a complaint's new fields with.
    sealing: HashMap<String, String>,
    /// Keys made here and not yet stored, by key id.
    pending: HashMap<String, (KeyRecord, Box<XChaCha20Poly1305>)>,
}

/// The key service of one event log.
pub struct Personal {
    db: Db,
    keys: Mutex<Keys>,
}

/// What `erase` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destroyed {
    pub keys: u64,
}

const SELECT_KEYS: &str = "SELECT key_id, complaint_id, reporter_ref, secret, created_at, \
     erased_at, erase_reason FROM personal_keys WHERE key_id IN (";

pub(crate) const INSERT_KEY: &str = "INSERT INTO personal_keys (key_id, complaint_id, \
     reporter_ref, secret, created_at, erased_at, erase_reason) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_id) DO NOTHING";

const ERASE: &str = "UPDATE personal_keys SET secret = NULL, erased_at = $2, erase_reason = $3 \
     WHERE reporter_ref = $1 AND secret IS NOT NULL RETURNING key_id, complaint_id";

const COMPLAINTS_OF: &str =
    "SELECT DISTINCT complaint_id FROM personal_keys WHERE reporter_ref = $1 ORDER BY complaint_id";

const EXPORT_KEYS: &str = "SELECT key_id, complaint_id, reporter_ref, secret, created_at, \
     erased_at, erase_reason FROM personal_keys WHERE key_id > $1 ORDER BY key_id LIMIT $2";

type KeyRow = (
    String,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
);

fn record(
    (key_id, complaint_id, reporter_ref, secret, created_at, erased_at, erase_reason): KeyRow,
) -> KeyRecord {
    KeyRecord {
        key_id,
        complaint_id,
        reporter_ref,
        secret,
        created_at,
        erased_at,
        erase_reason,
    }
}

fn cipher_of(secret: &str) -> Option<Box<XChaCha20Poly1305>> {
    let bytes = STANDARD.decode(secret).ok()?;
    XChaCha20Poly1305::new_from_slice(&bytes).ok().map(Box::new)
}

/// What binds a sealed value to its place: it opens only there.
fn associated_data(complaint_id: &str, sequence: i64, event_type: &str, path: &[&str]) -> Vec<u8> {
    format!(
        "aduan personal v1\n{complaint_id}\n{sequence}\n{event_type}\n{}",
        path.join(".")
    )
    .into_bytes()
}

/// The value at `path` under the event's payload object, if the event has it.
fn field_at<'a>(payload: &'a Value, event_type: &str, path: &[&str]) -> Option<&'a Value> {
    let mut at = payload.get(event_type)?;
    for step in path {
        at = at.get(*step)?;
    }
    Some(at)
}

/// `field`, to change it.
fn field_mut<'a>(payload: &'a mut Value, event_type: &str, path: &[&str]) -> Option<&'a mut Value> {
    let mut at = payload.get_mut(event_type)?;
    for step in path {
        at = at.get_mut(*step)?;
    }
    Some(at)
}

/// The personal fields an event holds, given who wrote it.
fn fields_of(event_type: &str, metadata: &Value) -> impl Iterator<Item = &'static PersonalField> {
    let by_reporter = metadata
        .get("actor_role")
        .and_then(Value::as_str)
        .is_some_and(erasure::written_by_reporter);
    erasure::personal_fields(event_type)
        .iter()
        .filter(move |f| by_reporter || !f.reporter_only)
}

/// A sealed value's key id, if `value` is one.
fn sealed_key(value: &Value) -> Option<&str> {
    value.get("sealed")?;
    value.get("key")?.as_str()
}

impl Personal {
    pub fn new(db: Db) -> Self {
        Personal {
            db,
            keys: Mutex::new(Keys {
                by_id: LruCache::new(NonZeroUsize::new(CACHED_KEYS).unwrap_or(NonZeroUsize::MIN)),
                sealing: HashMap::new(),
                pending: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Keys> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Seals the personal fields of `events` (one complaint's, `case` as it
    /// stands after them) in place, with the complaint's key, made now if this
    /// process has none for it (stored with the events: see `pending_for`).
    pub fn seal(&self, events: &mut [SerializedEvent], case: &Case) -> Result<(), StoreError> {
        self.seal_for(events, &case.id, &case.reporter_ref())
    }

    /// `seal` for a complaint named by id and reporter reference.
    pub fn seal_for(
        &self,
        events: &mut [SerializedEvent],
        complaint_id: &str,
        reporter_ref: &str,
    ) -> Result<(), StoreError> {
        for event in events.iter_mut() {
            let fields: Vec<_> = fields_of(&event.event_type, &event.metadata).collect();
            for field in fields {
                let Some(value) = field_mut(&mut event.payload, &event.event_type, field.path)
                else {
                    continue;
                };
                let Some(text) = value.as_str() else {
                    continue; // null (not given), or sealed already
                };
                let (key_id, cipher) = self.sealing_key(complaint_id, reporter_ref);
                let aad = associated_data(
                    &event.aggregate_id,
                    event.sequence as i64,
                    &event.event_type,
                    field.path,
                );
                let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
                let data = cipher
                    .encrypt(
                        &nonce,
                        Payload {
                            msg: text.as_bytes(),
                            aad: &aad,
                        },
                    )
                    .map_err(|_| StoreError::Other("sealing a personal field failed".into()))?;
                *value = serde_json::json!({
                    "sealed": 1,
                    "key": key_id,
                    "nonce": STANDARD.encode(nonce),
                    "data": STANDARD.encode(data),
                });
            }
        }
        Ok(())
    }

    /// The key this process seals `case`'s fields with, made if needed.
    fn sealing_key(
        &self,
        complaint_id: &str,
        reporter_ref: &str,
    ) -> (String, Box<XChaCha20Poly1305>) {
        let mut keys = self.lock();
        if let Some(key_id) = keys.sealing.get(complaint_id).cloned() {
            if let Some((_, cipher)) = keys.pending.get(&key_id) {
                return (key_id, cipher.clone());
            }
            if let Some(Cached::Live { cipher, at }) = keys.by_id.get(&key_id) {
                if at.elapsed() < LIVE_TTL {
                    return (key_id, cipher.clone());
                }
            }
        }
        // A new key rather than a look-up: the command path stays one round
        // trip, and a complaint with several keys is erased as one.
        let secret = XChaCha20Poly1305::generate_key(&mut OsRng);
        let cipher = Box::new(XChaCha20Poly1305::new(&secret));
        let key_id = uuid::Uuid::new_v4().to_string();
        let record = KeyRecord {
            key_id: key_id.clone(),
            complaint_id: complaint_id.to_string(),
            reporter_ref: reporter_ref.to_string(),
            secret: Some(STANDARD.encode(secret)),
            created_at: Utc::now(),
            erased_at: None,
            erase_reason: None,
        };
        keys.pending
            .insert(key_id.clone(), (record, cipher.clone()));
        keys.sealing
            .insert(complaint_id.to_string(), key_id.clone());
        (key_id, cipher)
    }

    /// The keys made here that `events` use and that are not stored yet: the
    /// append writes them in its own transaction, then calls `stored`.
    pub fn pending_for<'a>(
        &self,
        events: impl IntoIterator<Item = &'a SerializedEvent>,
    ) -> Vec<KeyRecord> {
        let keys = self.lock();
        if keys.pending.is_empty() {
            return Vec::new();
        }
        let mut used = HashSet::new();
        for event in events {
            for field in fields_of(&event.event_type, &event.metadata) {
                if let Some(key) =
                    field_at(&event.payload, &event.event_type, field.path).and_then(sealed_key)
                {
                    used.insert(key.to_string());
                }
            }
        }
        used.iter()
            .filter_map(|id| keys.pending.get(id).map(|(r, _)| r.clone()))
            .collect()
    }

    /// The keys are in the database now: readers find them there.
    pub fn stored(&self, records: &[KeyRecord]) {
        let mut keys = self.lock();
        for r in records {
            if let Some((_, cipher)) = keys.pending.remove(&r.key_id) {
                keys.by_id.put(
                    r.key_id.clone(),
                    Cached::Live {
                        cipher,
                        at: Instant::now(),
                    },
                );
            }
        }
    }

    /// Opens the sealed fields of raw rows in place (see the module's comment
    /// for what a destroyed or missing key reads as).
    pub async fn open_rows(&self, rows: &mut [Row]) -> Result<(), StoreError> {
        let mut wanted = HashSet::new();
        for row in rows.iter() {
            for field in fields_of(&row.event_type, &row.metadata) {
                if let Some(key) =
                    field_at(&row.payload, &row.event_type, field.path).and_then(sealed_key)
                {
                    wanted.insert(key.to_string());
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        self.fetch(wanted).await?;
        let mut keys = self.lock();
        for row in rows.iter_mut() {
            let Row {
                aggregate_id,
                sequence,
                event_type,
                payload,
                metadata,
                ..
            } = row;
            for field in fields_of(event_type, metadata) {
                let Some(value) = field_mut(payload, event_type, field.path) else {
                    continue;
                };
                if sealed_key(value).is_none() {
                    continue;
                }
                let aad = associated_data(aggregate_id, *sequence, event_type, field.path);
                let text = open(&mut keys, value, &aad).unwrap_or_else(|why| {
                    tracing::warn!(
                        complaint = %aggregate_id,
                        sequence = *sequence,
                        field = %field.path.join("."),
                        "a sealed personal field does not open: {why}"
                    );
                    UNREADABLE.to_string()
                });
                *value = Value::String(text);
            }
        }
        Ok(())
    }

    /// Reads the keys not cached (or cached live for longer than `LIVE_TTL`).
    async fn fetch(&self, wanted: HashSet<String>) -> Result<(), StoreError> {
        let missing: Vec<String> = {
            let mut keys = self.lock();
            wanted
                .into_iter()
                .filter(|id| {
                    if keys.pending.contains_key(id) {
                        return false;
                    }
                    match keys.by_id.get(id) {
                        Some(Cached::Erased) => false,
                        Some(Cached::Live { at, .. } | Cached::Missing { at }) => {
                            at.elapsed() >= LIVE_TTL
                        }
                        None => true,
                    }
                })
                .collect()
        };
        for chunk in missing.chunks(LOOKUP_CHUNK) {
            let rows: Vec<KeyRow> = on_db!(&self.db, pool => {
                let mut q = sqlx::QueryBuilder::new(SELECT_KEYS);
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id.clone());
                }
                q.push(")");
                q.build_query_as().fetch_all(pool).await
            })
            .map_err(StoreError::from_sqlx)?;
            let mut keys = self.lock();
            let now = Instant::now();
            let found: HashSet<String> = rows.iter().map(|r| r.0.clone()).collect();
            for row in rows {
                let r = record(row);
                let cached = match r.secret.as_deref().map(cipher_of) {
                    None => Cached::Erased,
                    Some(Some(cipher)) => Cached::Live { cipher, at: now },
                    Some(None) => Cached::Missing { at: now },
                };
                keys.by_id.put(r.key_id, cached);
            }
            for id in chunk.iter().filter(|id| !found.contains(*id)) {
                keys.by_id.put(id.clone(), Cached::Missing { at: now });
            }
        }
        Ok(())
    }

    /// The complaints `reporter_ref` has keys on (erased ones included).
    pub async fn complaints_of(&self, reporter_ref: &str) -> Result<Vec<String>, StoreError> {
        on_db!(&self.db, pool => sqlx::query_scalar(COMPLAINTS_OF)
            .bind(reporter_ref)
            .fetch_all(pool)
            .await)
        .map_err(StoreError::from_sqlx)
    }

    /// Destroys every live key of `reporter_ref`, keeping when and why in its
    /// row. Every sealed field under those keys reads as `ERASED` from now on
    /// (in other processes within `LIVE_TTL`).
    pub async fn erase(
        &self,
        reporter_ref: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Destroyed, StoreError> {
        let rows: Vec<(String, String)> = on_db!(&self.db, pool => sqlx::query_as(ERASE)
            .bind(reporter_ref)
            .bind(at)
            .bind(reason)
            .fetch_all(pool)
            .await)
        .map_err(StoreError::from_sqlx)?;
        let mut keys = self.lock();
        let complaints: HashSet<&str> = rows.iter().map(|(_, c)| c.as_str()).collect();
        keys.sealing
            .retain(|complaint, _| !complaints.contains(complaint.as_str()));
        // Keys of these complaints made here and not stored yet go too: they
        // would otherwise be stored later, live.
        keys.pending
            .retain(|_, (r, _)| r.reporter_ref != reporter_ref);
        for (key_id, _) in &rows {
            keys.by_id.put(key_id.clone(), Cached::Erased);
        }
        Ok(Destroyed {
            keys: rows.len() as u64,
        })
    }

    /// Up to `limit` key rows after `after` (by key id), for `aduan export`.
    pub async fn export_after(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let rows: Vec<KeyRow> = on_db!(&self.db, pool => sqlx::query_as(EXPORT_KEYS)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await)
        .map_err(StoreError::from_sqlx)?;
        Ok(rows.into_iter().map(record).collect())
    }
}

/// Opens one sealed value with the cached keys.
fn open(keys: &mut Keys, value: &Value, aad: &[u8]) -> Result<String, &'static str> {
    let key_id = sealed_key(value).ok_or("not a sealed value")?;
    let cipher = match keys.pending.get(key_id) {
        Some((_, cipher)) => cipher.clone(),
        None => match keys.by_id.get(key_id) {
            Some(Cached::Live { cipher, .. }) => cipher.clone(),
            Some(Cached::Erased) => return Ok(ERASED.to_string()),
            Some(Cached::Missing { .. }) | None => return Err("its key is missing"),
        },
    };
    let decode = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .and_then(|t| STANDARD.decode(t).ok())
            .ok_or("malformed")
    };
    let (nonce, data) = (decode("nonce")?, decode("data")?);
    if nonce.len() != 24 {
        return Err("malformed nonce");
    }
    let plain = cipher
        .decrypt(XNonce::from_slice(&nonce), Payload { msg: &data, aad })
        .map_err(|_| "it does not authenticate here")?;
    String::from_utf8(plain).map_err(|_| "not UTF-8")
}

/// Writes key rows in an open transaction (an append's, an import's, the
/// legacy pass's), on either database.
pub(crate) trait KeyWriter {
    async fn insert_keys(&mut self, records: &[KeyRecord]) -> Result<(), StoreError>;
}

macro_rules! key_writer {
    ($conn:ty) => {
        impl KeyWriter for $conn {
            async fn insert_keys(&mut self, records: &[KeyRecord]) -> Result<(), StoreError> {
                for r in records {
                    sqlx::query(INSERT_KEY)
                        .bind(&r.key_id)
                        .bind(&r.complaint_id)
                        .bind(&r.reporter_ref)
                        .bind(&r.secret)
                        .bind(r.created_at)
                        .bind(r.erased_at)
                        .bind(&r.erase_reason)
                        .execute(&mut *self)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                }
                Ok(())
            }
        }
    };
}

key_writer!(sqlx::PgConnection);
key_writer!(sqlx::SqliteConnection);
