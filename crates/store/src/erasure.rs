//! Erasing a reporter's personal data (`erase_reporter`) and sealing the
//! personal data of events written before sealing existed
//! (`seal_legacy_personal_data`). See `personal` for the sealing itself and
//! docs/erasure.md for what is erased and what stays.

use std::collections::BTreeMap;

use chrono::Utc;
use cqrs_es::persist::SerializedEvent;
use cqrs_es::Aggregate;
use sqlx::types::Json;

use aduan_domain::access::{self, Access, Operation};
use aduan_domain::erasure;
use aduan_domain::{
    Action, Actor, Command, Complaint, ComplaintError, EraseReporterData, LongText,
};

use crate::bus::{CommandBus, CommandRequest};
use crate::codec::{self, read_row};
use crate::error::{CommandError, StoreError};
use crate::log::EventLog;
use crate::metadata::RequestContext;
use crate::personal::KeyWriter;

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub reporter_ref: String,
    /// Every complaint of the reporter, erased now or before.
    pub complaints: Vec<String>,
    /// The complaints that got their `ReporterDataErased` event now.
    pub erased_now: Vec<String>,
    /// Keys destroyed now (0 when a repeat found nothing left to destroy).
    pub keys_destroyed: u64,
}

/// Erases the personal data of the reporter `reporter_ref` on every complaint
/// they have data on: a `ReporterDataErased` event on each (through the command
/// path, so it is audited like any change), then the keys are destroyed. A
/// repeat is harmless: erased complaints get no second event, and keys made
/// since (an answer the reporter gave afterwards) are destroyed too.
pub async fn erase_reporter(
    bus: &CommandBus,
    actor: &Actor,
    context: &RequestContext,
    reporter_ref: &str,
    reason: &str,
) -> Result<Erasure, CommandError> {
    if access::access(actor.role, Operation::EraseReporterData) != Access::Allowed {
        return Err(ComplaintError::forbidden(format!(
            "{} may not erase reporters' personal data",
            actor.role
        ))
        .into());
    }
    let reporter_ref = reporter_ref.trim().to_ascii_lowercase();
    if !erasure::is_reporter_ref(&reporter_ref) {
        return Err(ComplaintError::invalid(
            "reporter_ref",
            "is not a reporter reference (64 hexadecimal digits, as Complaint.reporterRef shows)",
        )
        .into());
    }
    let reason = LongText::parse(reason).map_err(|e| e.at("reason"))?;
    let log = bus.log();
    let complaints = log.personal().complaints_of(&reporter_ref).await?;
    if complaints.is_empty() {
        return Err(ComplaintError::NotFound.into());
    }
    let mut erased_now = Vec::new();
    for id in &complaints {
        let history = log.load(id).await?;
        match codec::fold(&history).0 {
            Some(case) if !case.personal_data_erased => {}
            _ => continue,
        }
        let command = Command::new(
            actor.clone(),
            Action::EraseReporterData(EraseReporterData {
                reason: reason.clone(),
            }),
        );
        let request = CommandRequest {
            complaint_id: id.clone(),
            command,
            context: context.clone(),
            command_id: None,
            expected_version: None,
        };
        match bus.execute(request).await {
            Ok(_) => erased_now.push(id.clone()),
            // Erased meanwhile by a concurrent call: nothing left to record.
            Err(CommandError::Domain(ComplaintError::RuleViolated(_))) => {}
            Err(e) => return Err(e),
        }
    }
    let destroyed = log
        .personal()
        .erase(&reporter_ref, reason.as_str(), Utc::now())
        .await?;
    Ok(Erasure {
        reporter_ref,
        complaints,
        erased_now,
        keys_destroyed: destroyed.keys,
    })
}

/// Rows still holding personal data in plain text (version 1), oldest first.
/// Only unsealed rows can (rows written since the chain are sealed, and at
/// version 2), so the partial index of unsealed rows keeps this short at start.
const PLAIN_PERSONAL: &str = "SELECT aggregate_id, sequence, position, event_type, \
     event_version, payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE hash IS NULL AND event_version = '1' \
       AND event_type IN ('Submitted', 'InfoProvided', 'Rated', 'Reopened', 'AttachmentAdded') \
     ORDER BY position LIMIT $1";

const SEAL_ROW: &str = "UPDATE events SET payload = $1, event_version = $2 \
     WHERE position = $3 AND event_version = '1' AND hash IS NULL";

/// Rows sealed per transaction.
const LEGACY_BATCH: i64 = 500;

/// Seals, in place, the personal data of events written in plain text (before
/// sealing existed, or imported from such an export), so erasure reaches them
/// too. Runs after the migrations and before the audit chain seals unsealed
/// rows (which it may then update no more). Returns how many rows it sealed.
pub async fn seal_legacy_personal_data(log: &dyn EventLog) -> Result<u64, StoreError> {
    let mut sealed = 0;
    loop {
        let rows = on_db!(&log.db(), pool => {
            let rows = sqlx::query(PLAIN_PERSONAL)
                .bind(LEGACY_BATCH)
                .fetch_all(pool)
                .await
                .map_err(StoreError::from_sqlx)?;
            rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?
        });
        if rows.is_empty() {
            return Ok(sealed);
        }
        let mut by_complaint: BTreeMap<String, (Vec<i64>, Vec<SerializedEvent>)> = BTreeMap::new();
        for row in rows {
            let entry = by_complaint.entry(row.aggregate_id.clone()).or_default();
            entry.0.push(row.position);
            entry.1.push(SerializedEvent::new(
                row.aggregate_id,
                row.sequence as usize,
                Complaint::TYPE.to_string(),
                row.event_type,
                aduan_domain::events::PERSONAL_EVENT_VERSION.to_string(),
                row.payload,
                row.metadata,
            ));
        }
        let (mut positions, mut events) = (Vec::new(), Vec::new());
        for (id, (at, mut rows)) in by_complaint {
            // The reporter reference comes from the case (its submission names
            // the account, which is never sealed).
            let case = codec::fold(&log.load(&id).await?).0;
            let reporter = case.as_ref().and_then(|c| c.reporter.as_ref());
            let reporter_ref = erasure::reporter_ref(&id, reporter);
            log.personal().seal_for(&mut rows, &id, &reporter_ref)?;
            positions.extend(at);
            events.extend(rows);
        }
        let keys = log.personal().pending_for(&events);
        on_db!(&log.db(), pool => {
            let mut tx = pool.begin().await.map_err(StoreError::from_sqlx)?;
            tx.insert_keys(&keys).await?;
            for (event, position) in events.iter().zip(&positions) {
                sqlx::query(SEAL_ROW)
                    .bind(Json(&event.payload))
                    .bind(&event.event_version)
                    .bind(*position)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
            }
            tx.commit().await.map_err(StoreError::from_sqlx)?;
        });
        log.personal().stored(&keys);
        sealed += events.len() as u64;
        tracing::info!(
            sealed,
            "sealed personal data written before sealing existed"
        );
    }
}
