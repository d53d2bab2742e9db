//! `aduan attachments check`: every object the event log names is in storage,
//! and every object in storage is named by the log. A file stored for a
//! command that was then refused (the case changed in between) or whose
//! server died before the event was written is an orphan: reported, and
//! deleted with `--delete-orphans` once older than any upload in flight.

use std::collections::HashMap;

use aduan_attachments::Objects;
use aduan_store::EventLog;

#[derive(Debug, Default)]
pub struct Report {
    pub referenced: usize,
    pub stored: usize,
    /// (object, "complaint #sequence") named by the log but not in storage.
    pub missing: Vec<(String, String)>,
    pub orphaned: Vec<String>,
    pub deleted: usize,
}

/// Every object the log names, with the first event that names it; objects
/// erased with a reporter's data (`erased_files`) are not named: they are
/// expected gone, and an orphan if still stored.
async fn referenced(log: &dyn EventLog) -> anyhow::Result<HashMap<String, String>> {
    let names = crate::erased_files::names(log).await?;
    let erased = names.erased();
    Ok(names
        .named
        .into_iter()
        .filter(|(hash, _)| !erased.contains(hash))
        .collect())
}

pub async fn check(
    log: &dyn EventLog,
    objects: &Objects,
    delete_orphans_older_than: Option<chrono::Duration>,
) -> anyhow::Result<Report> {
    let names = referenced(log).await?;
    let stored = objects.list_stored().await?;
    let mut report = Report {
        referenced: names.len(),
        stored: stored.len(),
        ..Report::default()
    };
    let in_storage: std::collections::HashSet<&str> =
        stored.iter().map(|o| o.hash.as_str()).collect();
    for (hash, at) in &names {
        if !in_storage.contains(hash.as_str()) {
            report.missing.push((hash.clone(), at.clone()));
        }
    }
    report.missing.sort();
    let now = chrono::Utc::now();
    for object in stored.into_iter().filter(|o| !names.contains_key(&o.hash)) {
        if delete_orphans_older_than.is_some_and(|age| now - object.written > age) {
            objects.delete(&object.hash).await?;
            report.deleted += 1;
        }
        report.orphaned.push(object.hash);
    }
    report.orphaned.sort();
    Ok(report)
}
