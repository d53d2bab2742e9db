//! Settings read at start: reference data and business rules.

use std::path::Path;

use anyhow::Context;

use aduan_domain::{ReferenceData, Rules};

/// The Makassar reference data shipped in the repository, used when no file is named.
const DEFAULT_REFERENCE: &str = include_str!("../../../config/reference.toml");

pub fn load_reference(path: Option<&Path>) -> anyhow::Result<ReferenceData> {
    let (text, origin) = match path {
        Some(p) => (
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            DEFAULT_REFERENCE.to_string(),
            "built-in config/reference.toml".into(),
        ),
    };
    let data: ReferenceData = toml::from_str(&text).with_context(|| format!("parsing {origin}"))?;
    data.check().with_context(|| format!("checking {origin}"))?;
    Ok(data)
}

pub fn rules(reopen_window_days: i64) -> Rules {
    Rules {
        reopen_window: chrono::Duration::days(reopen_window_days),
        ..Rules::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_reference_data_is_consistent_and_complete() {
        let data = load_reference(None).unwrap();
        assert_eq!(data.kecamatan.len(), 15, "Makassar has 15 kecamatan");
        assert!(data.opd("DPU").is_some());
        assert_eq!(data.category("GARBAGE").unwrap().default_opd, "DLH");
    }
}
