//! `aduan audit ...`: verify the whole log, sign a checkpoint now, export a
//! case's signed proof, verify such an export offline, print the public key.

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;

use aduan_audit::bundle::{Bundle, BundledEvent, FORMAT};
use aduan_store::audit::{self, CaseProof};
use aduan_store::PgOptions;

use crate::audit::{parse_verifier, Audit, KeySource};
use crate::cli::{connect, Cli};

#[derive(Debug, Subcommand)]
pub enum AuditCommands {
    /// Recompute every hash, chain, leaf and signed checkpoint; exit 0 when the
    /// log is intact, otherwise list what was edited, deleted, inserted,
    /// reordered or truncated, by position, and exit 1, or 3 when the only
    /// finding is that the log ends before a checkpoint signed earlier (an
    /// auditor's, after a restore to a point before it).
    Verify {
        /// The public key to trust (a file or string: the verifier key, or the
        /// /.well-known/aduan-audit-key document). Default: the signing key's.
        #[arg(long)]
        key: Option<String>,
        /// Checkpoint notes kept outside the database (as the city published
        /// them), checked like the stored ones, and each proved by an RFC 9162
        /// consistency proof to be the beginning of the latest signed tree.
        #[arg(long = "published")]
        published: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Seal the settled events into the tree and sign a checkpoint now.
    Checkpoint,
    /// Write a case's events, proofs and checkpoint, signed, for offline checking.
    Export {
        #[arg(long)]
        complaint: String,
        #[arg(long)]
        output: PathBuf,
    },
    /// Verify an exported case with nothing but the public key (no database).
    VerifyBundle {
        bundle: PathBuf,
        /// The public key (a file or string, as for `verify`).
        #[arg(long)]
        key: String,
    },
    /// Print the public key document (as /.well-known/aduan-audit-key serves it).
    Key,
}

pub async fn run(cli: &Cli, command: &AuditCommands) -> anyhow::Result<()> {
    match command {
        AuditCommands::VerifyBundle { bundle, key } => verify_bundle(bundle, key),
        AuditCommands::Verify {
            key,
            published,
            json,
        } => verify(cli, key.as_deref(), published, *json).await,
        AuditCommands::Checkpoint => {
            let (log, audit) = open(cli).await?;
            match audit::checkpoint(log.as_ref(), &audit.signer().await?).await? {
                Some(c) => print!("{}", c.note),
                None => eprintln!("the log is empty: nothing to sign"),
            }
            Ok(())
        }
        AuditCommands::Export { complaint, output } => export(cli, complaint, output).await,
        AuditCommands::Key => {
            let (_, audit) = open(cli).await?;
            println!("{}", serde_json::to_string_pretty(&audit.document().await)?);
            Ok(())
        }
    }
}

/// The log and its keys, as the command line's settings name them.
pub(crate) async fn open(
    cli: &Cli,
) -> anyhow::Result<(std::sync::Arc<dyn aduan_store::EventLog>, Audit)> {
    let log = connect(cli, &PgOptions::default())?;
    log.migrate().await?;
    let audit = Audit::open(&cli.audit, log.clone(), std::time::Duration::MAX).await?;
    Ok((log, audit))
}

async fn verify(
    cli: &Cli,
    key: Option<&str>,
    published: &[PathBuf],
    json: bool,
) -> anyhow::Result<()> {
    let (log, audit) = open(cli).await?;
    let keys = match key {
        Some(key) => parse_verifier(key)?,
        None => {
            if audit.source == KeySource::Database {
                eprintln!(
                    "warning: verifying with the development key kept in the database; \
                     pass --key with the published key to check against someone who can \
                     rewrite the database"
                );
            }
            audit.trusted().await
        }
    };
    let notes = published
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let started = Instant::now();
    let report = audit::verify(log.as_ref(), &keys, &notes).await?;
    let took = started.elapsed();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for f in &report.findings {
            let at = f.position.map_or("-".to_string(), |p| p.to_string());
            println!(
                "{:<10} position {at}: {}",
                format!("{:?}", f.kind).to_uppercase(),
                f.detail
            );
        }
        for c in &report.consistency {
            println!(
                "published checkpoint of {} events: {} the signed checkpoint of {} events \
                 (consistency proof of {} hashes)",
                c.from_size,
                if c.consistent {
                    "consistent with"
                } else {
                    "NOT consistent with"
                },
                c.to_size,
                c.proof_hashes
            );
        }
        println!(
            "{} events, {} sealed, {} checkpoints (signed up to {} events) checked in {:.1} s: {}",
            report.events,
            report.sealed,
            report.checkpoints,
            report.signed_size,
            took.as_secs_f64(),
            if report.intact() {
                "intact".to_string()
            } else {
                format!("{} findings", report.findings.len())
            }
        );
    }
    outcome(&report)
}

/// Exit 0 when intact, 3 when the log only ends early, 1 otherwise.
fn outcome(report: &audit::Report) -> anyhow::Result<()> {
    if report.intact() {
        Ok(())
    } else if report.only_truncated() {
        Err(crate::cli::Exit {
            code: EXIT_TRUNCATED,
            message: format!(
                "TRUNCATED: the log is intact as far as it goes ({} sealed events), but a \
                 checkpoint signed earlier covers more: the events after it are gone. After \
                 a restore this is expected (they are the events since the restore point); \
                 otherwise history was cut",
                report.sealed
            ),
        }
        .into())
    } else {
        Err(anyhow::anyhow!(
            "the log is not as it was sealed and signed"
        ))
    }
}

/// `aduan audit verify`'s exit status when the log is intact but ends before
/// a checkpoint signed earlier (docs/audit.md).
pub const EXIT_TRUNCATED: u8 = 3;

async fn export(cli: &Cli, complaint: &str, output: &PathBuf) -> anyhow::Result<()> {
    let (log, audit) = open(cli).await?;
    let signer = audit.signer().await?;
    // A fresh checkpoint, so the case's latest events are covered too.
    audit::checkpoint(log.as_ref(), &signer).await?;
    let Some(CaseProof {
        complaint: complaint_id,
        checkpoint,
        events,
    }) = audit::case_proof(log.as_ref(), complaint).await?
    else {
        anyhow::bail!("no complaint {complaint}");
    };
    let checkpoint = checkpoint.ok_or_else(|| anyhow::anyhow!("no checkpoint covers the case"))?;
    let events = events
        .into_iter()
        .map(|e| {
            let uncovered = || anyhow::anyhow!("event #{} is not sealed yet", e.sequence);
            Ok(BundledEvent {
                position: e.position,
                sequence: e.sequence,
                event_type: e.event_type.clone(),
                event_version: e.event_version.clone(),
                payload: e.payload.clone(),
                metadata: e.metadata.clone(),
                recorded_at: aduan_audit::chain::timestamp(e.recorded_at),
                prev_hash: e.prev_hash.clone().ok_or_else(uncovered)?,
                hash: e.hash.clone().ok_or_else(uncovered)?,
                leaf_index: e.leaf_index.ok_or_else(uncovered)?,
                proof: e.proof.iter().map(hex::encode).collect(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let count = events.len();
    let bytes = Bundle {
        format: FORMAT.to_string(),
        complaint_id,
        exported_at: chrono::Utc::now(),
        checkpoint: checkpoint.note,
        events,
        signature: String::new(),
    }
    .seal(&signer);
    std::fs::write(output, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
    eprintln!(
        "wrote {count} events of {complaint} with their proofs against the checkpoint of {} \
         events to {}",
        checkpoint.tree_size,
        output.display()
    );
    Ok(())
}

fn verify_bundle(path: &PathBuf, key: &str) -> anyhow::Result<()> {
    let keys = parse_verifier(key)?;
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    // Signed by one of the keys the document lists (a bundle is checked with
    // the key that sealed it, whichever that was).
    let mut outcome = Err(None);
    for k in &keys.0 {
        match Bundle::verify(&bytes, &k.verifier) {
            Ok(v) => {
                outcome = Ok((v, &k.verifier));
                break;
            }
            Err(e) => outcome = Err(Some(e)),
        }
    }
    let (verified, verifier) = outcome.map_err(|e| {
        anyhow::anyhow!(
            "{} does not verify: {}",
            path.display(),
            e.map_or("no key".to_string(), |e| e.to_string())
        )
    })?;
    println!(
        "{}: complaint {}, {} events, each proved in the tree of {} events signed at {} by {}",
        path.display(),
        verified.complaint_id,
        verified.events,
        verified.tree_size,
        verified.checkpoint_time.to_rfc3339(),
        verifier.name
    );
    Ok(())
}
