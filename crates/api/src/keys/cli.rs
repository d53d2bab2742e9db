//! `aduan keys ...`: rotate the server's own keys and list them
//! (docs/operations.md, "Rotating secrets").

use std::path::PathBuf;

use clap::Subcommand;

use super::{KeyKind, KeyRing, Ring, StoredKey, MAX_OVERLAP_HOURS};
use crate::cli::Cli;

#[derive(Debug, Subcommand)]
pub enum KeyCommands {
    /// Rotate a key: the new one signs from now on (every running process
    /// picks it up within seconds), the old one still verifies for the overlap.
    Rotate {
        key: KeyKind,
        /// Hours the old key keeps verifying (0 to 168; 0 for a key that
        /// leaked). Default: attachments, the links' lifetime (links handed
        /// out stay valid until they expire); audit and dev-token, 24.
        #[arg(long)]
        overlap_hours: Option<i64>,
        /// audit: the new Ed25519 key file (PKCS#8 PEM) to rotate in, when the
        /// log is signed with a key file; then point ADUAN_AUDIT_KEY at it and
        /// restart the processes one by one within the overlap.
        #[arg(long)]
        new_key: Option<PathBuf>,
        /// attachments: the links' lifetime, the default overlap.
        #[arg(long, env = "ADUAN_ATTACHMENT_LINK_SECONDS", default_value_t = 600)]
        attachment_link_seconds: u64,
    },
    /// The keys of each ring: ids and times, never a secret.
    List,
}

pub async fn run(cli: &Cli, command: &KeyCommands) -> anyhow::Result<()> {
    match command {
        KeyCommands::List => {
            let (log, audit) = crate::audit_cli::open(cli).await?;
            let attachments = KeyRing::open(KeyKind::Attachments, log.clone(), None).await?;
            let (tokens, _) = crate::auth::dev_ring(&log).await?;
            for ring in [&attachments, audit.ring(), &tokens] {
                print_ring(ring.kind(), &ring.held());
            }
            Ok(())
        }
        KeyCommands::Rotate {
            key,
            overlap_hours,
            new_key,
            attachment_link_seconds,
        } => {
            let (log, audit) = crate::audit_cli::open(cli).await?;
            let by = format!("{} (aduan keys rotate)", whoami());
            let default_hours = chrono::Duration::hours(24);
            let (ring, new, default) = match key {
                KeyKind::Attachments => (
                    KeyRing::open(KeyKind::Attachments, log.clone(), None).await?,
                    StoredKey::secret(super::new_secret()),
                    chrono::Duration::seconds(i64::try_from(*attachment_link_seconds)?),
                ),
                KeyKind::DevToken => {
                    anyhow::ensure!(
                        !std::env::var("ADUAN_JWT_SECRET").is_ok_and(|s| !s.is_empty()),
                        "ADUAN_JWT_SECRET is set: that secret is yours to rotate (docs/operations.md)"
                    );
                    let (ring, _) = crate::auth::dev_ring(&log).await?;
                    (ring, StoredKey::secret(super::new_secret()), default_hours)
                }
                KeyKind::Audit => {
                    let new = match new_key {
                        Some(path) => crate::audit::file_entry(path, audit.origin())?,
                        None => {
                            anyhow::ensure!(
                                audit.ring().held().current().secret.is_some(),
                                "this log's audit key is a file: rotate in the new one with \
                                 --new-key FILE"
                            );
                            crate::audit::new_dev_key(audit.origin())
                        }
                    };
                    (audit.ring().clone(), new, default_hours)
                }
            };
            if let Some(h) = overlap_hours {
                anyhow::ensure!(
                    (0..=MAX_OVERLAP_HOURS).contains(h),
                    "--overlap-hours: 0 to {MAX_OVERLAP_HOURS}"
                );
            }
            let overlap = overlap_hours.map_or(default, chrono::Duration::hours);
            let rotated = ring.rotate(new, overlap, &by).await?;
            print_ring(*key, &rotated);
            Ok(())
        }
    }
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "operator".into())
}

fn print_ring(kind: KeyKind, ring: &Ring) {
    let now = chrono::Utc::now();
    for (i, k) in ring.keys.iter().enumerate() {
        let state = match k.retires {
            None if i == 0 => "signing".to_string(),
            None => "verifying".to_string(),
            Some(r) if r >= now => format!("verifying until {}", r.to_rfc3339()),
            Some(r) => format!("retired at {}", r.to_rfc3339()),
        };
        let since = k.since.map_or("from the start".to_string(), |s| {
            format!("since {}", s.to_rfc3339())
        });
        let by = k
            .rotated_by
            .as_deref()
            .map_or(String::new(), |by| format!(", rotated in by {by}"));
        println!("{:<12} {} {since}, {state}{by}", kind.as_str(), k.id);
    }
}
