//! What a monitor checks (docs/audit.md): that each checkpoint an auditor kept
//! outside the database is the beginning of the tree the log's latest signed
//! checkpoint vouches for, by an RFC 9162 consistency proof from the kept
//! checkpoint's size to the latest one's, checked against both signed roots.

use serde::Serialize;

use aduan_audit::consistency::verify_consistency;
use aduan_audit::keyring::TrustedKeys;

use crate::error::StoreError;
use crate::log::EventLog;

use super::consistency::consistency;
use super::tree::latest_checkpoint;
use super::verify::{Finding, FindingKind};

/// One kept checkpoint checked against the latest signed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsistencyCheck {
    pub from_size: u64,
    pub to_size: u64,
    /// How many hashes the proof took.
    pub proof_hashes: usize,
    pub consistent: bool,
}

/// Checks every published note that opens with `keys`; notes that do not
/// open, or that reach past the latest checkpoint, are the full verification's
/// findings (CHECKPOINT, TRUNCATED) and are skipped here.
pub(crate) async fn published_consistency(
    log: &dyn EventLog,
    keys: &TrustedKeys,
    published: &[String],
) -> Result<(Vec<ConsistencyCheck>, Vec<Finding>), StoreError> {
    let mut checks = Vec::new();
    let mut findings = Vec::new();
    let Some(latest) = latest_checkpoint(&log.db()).await? else {
        return Ok((checks, findings));
    };
    let Ok(to) = keys.open(&latest.note) else {
        return Ok((checks, findings));
    };
    for (i, note) in published.iter().enumerate() {
        let Ok(from) = keys.open(note) else {
            continue;
        };
        if from.size == 0 || from.size > to.size {
            continue;
        }
        let consistent = match consistency(log, from.size, to.size).await? {
            Ok(c) => {
                let ok = verify_consistency(from.size, to.size, &from.root, &to.root, &c.proof);
                checks.push(ConsistencyCheck {
                    from_size: from.size,
                    to_size: to.size,
                    proof_hashes: c.proof.len(),
                    consistent: ok,
                });
                ok
            }
            Err(_) => false,
        };
        if !consistent {
            findings.push(Finding {
                kind: FindingKind::Checkpoint,
                position: None,
                detail: format!(
                    "published checkpoint {} (size {}) is not the beginning of the latest \
                     signed checkpoint's tree (size {}): its consistency proof fails",
                    i + 1,
                    from.size,
                    to.size
                ),
            });
        }
    }
    Ok((checks, findings))
}
