//! Settings read at start: reference data, SLA settings and business rules.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use aduan_domain::numbering::{self, CaseNumbering};
use aduan_domain::sla::SlaConfig;
use aduan_domain::tracking::TrackingKey;
use aduan_domain::{ReferenceData, Rules};
use aduan_projections::{ComplaintSummary, SlaTimers, SurveyResponses};

/// The Makassar reference data shipped in the repository, used when no file is named.
const DEFAULT_REFERENCE: &str = include_str!("../../../config/reference.toml");
/// The shipped SLA calendar and policies.
const DEFAULT_SLA: &str = include_str!("../../../config/sla.toml");
/// The shipped notification templates (Indonesian).
const DEFAULT_NOTIFICATIONS: &str = include_str!("../../../config/notifications.toml");

/// Reads a TOML settings file, or the shipped default when no path is given.
fn read_toml<T: serde::de::DeserializeOwned>(
    path: Option<&Path>,
    default: &str,
    name: &str,
) -> anyhow::Result<(T, String)> {
    let (text, origin) = match path {
        Some(p) => (
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (default.to_string(), format!("built-in config/{name}")),
    };
    let value = toml::from_str(&text).with_context(|| format!("parsing {origin}"))?;
    Ok((value, origin))
}

pub fn load_reference(path: Option<&Path>) -> anyhow::Result<ReferenceData> {
    let (data, origin): (ReferenceData, _) = read_toml(path, DEFAULT_REFERENCE, "reference.toml")?;
    data.check().with_context(|| format!("checking {origin}"))?;
    Ok(data)
}

/// The notification templates, checked: every placeholder must be known.
pub fn load_notification_templates(
    path: Option<&Path>,
) -> anyhow::Result<aduan_integration::notify::Templates> {
    let (text, origin) = match path {
        Some(p) => (
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            DEFAULT_NOTIFICATIONS.to_string(),
            "built-in config/notifications.toml".to_string(),
        ),
    };
    aduan_integration::notify::Templates::parse(&text).with_context(|| format!("checking {origin}"))
}

/// The SLA settings, checked: the calendar and every policy version must build.
pub fn load_sla(path: Option<&Path>) -> anyhow::Result<SlaConfig> {
    load_sla_with(path, None)
}

/// Days off a city adds to the SLA calendar without copying its settings
/// (`--holidays`, ADUAN_HOLIDAYS).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtraHolidays {
    /// National days (public holidays, cuti bersama) the settings lack yet.
    #[serde(default)]
    holidays: Vec<chrono::NaiveDate>,
    /// The city's own days off.
    #[serde(default)]
    local_holidays: Vec<chrono::NaiveDate>,
}

/// The SLA settings with the days of a holidays file added, checked.
pub fn load_sla_with(path: Option<&Path>, holidays: Option<&Path>) -> anyhow::Result<SlaConfig> {
    let (mut config, origin): (SlaConfig, _) = read_toml(path, DEFAULT_SLA, "sla.toml")?;
    if let Some(extra) = holidays {
        let text = std::fs::read_to_string(extra)
            .with_context(|| format!("reading {}", extra.display()))?;
        add_holidays(&mut config, &text).with_context(|| format!("parsing {}", extra.display()))?;
    }
    config
        .build()
        .with_context(|| format!("checking {origin}"))?;
    Ok(config)
}

/// Adds the days of a holidays file's text (`--holidays`) to the calendar.
pub fn add_holidays(config: &mut SlaConfig, text: &str) -> anyhow::Result<()> {
    let extra: ExtraHolidays = toml::from_str(text)?;
    let calendar = &mut config.calendar;
    calendar.holidays.extend(extra.holidays);
    calendar.holidays.sort_unstable();
    calendar.holidays.dedup();
    calendar.local_holidays.extend(extra.local_holidays);
    calendar.local_holidays.sort_unstable();
    calendar.local_holidays.dedup();
    Ok(())
}

/// The two projections, on these SLA settings.
pub fn projections(config: &SlaConfig) -> anyhow::Result<(ComplaintSummary, SlaTimers)> {
    let (_, book) = config.build()?;
    Ok(aduan_projections::projections(
        Arc::new(config.calendars()?),
        Arc::new(book),
    ))
}

/// The hand-off legs projection, on the business calendar.
pub fn handoff_projection(config: &SlaConfig) -> anyhow::Result<aduan_projections::HandoffLegs> {
    Ok(aduan_projections::HandoffLegs::new(Arc::new(
        config.calendar.build()?,
    )))
}

/// The satisfaction-survey projection, on the calendar's UTC offset (which
/// local month an answer belongs to).
pub fn survey_projection(config: &SlaConfig) -> anyhow::Result<SurveyResponses> {
    Ok(SurveyResponses::new(config.calendar.build()?.offset()))
}

/// The key tracking codes are made with: generated on first start and kept in
/// the database, so every process of a city, and every restart, makes the same
/// code for a case (a retried submission gets its code again).
pub async fn tracking_key(log: &dyn aduan_store::EventLog) -> anyhow::Result<TrackingKey> {
    let (key, _) = stored_secret(log, "tracking_code_key").await?;
    Ok(TrackingKey::new(key.into_bytes()))
}

/// A random secret kept in `server_settings` under `name`: the one stored, or
/// 244 random bits stored now (then `true`). Every process on the database
/// agrees on it, whichever stored it first.
pub async fn stored_secret(
    log: &dyn aduan_store::EventLog,
    name: &str,
) -> anyhow::Result<(String, bool)> {
    let fresh = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    Ok(log.setting_or_insert(name, &fresh).await?)
}

/// The business rules: the reopen window the operator chose, and case numbers
/// with the city's prefix (reference data) counted in its local years (the
/// SLA calendar's offset).
pub fn rules(
    reopen_window_days: i64,
    reference: &ReferenceData,
    sla: &SlaConfig,
) -> anyhow::Result<Rules> {
    let offset = sla
        .calendar
        .offset()
        .with_context(|| format!("utc_offset {:?} is not +HH:MM", sla.calendar.utc_offset))?;
    let prefix = reference.city.case_number_prefix.as_deref();
    let numbering = CaseNumbering::new(prefix.unwrap_or(numbering::DEFAULT_PREFIX), offset)?;
    Ok(Rules {
        reopen_window: chrono::Duration::days(reopen_window_days),
        numbering,
        ..Rules::default()
    })
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
        // The Ministry of Home Affairs' list: 153 kelurahan, counted per kecamatan.
        assert_eq!(data.kelurahan.len(), 153);
        let per = |k: &str| data.kelurahan.iter().filter(|l| l.kecamatan == k).count();
        let counts = [
            ("MARISO", 9),
            ("MAMAJANG", 13),
            ("MAKASSAR", 14),
            ("UJUNG_PANDANG", 10),
            ("WAJO", 8),
            ("BONTOALA", 12),
            ("TALLO", 15),
            ("UJUNG_TANAH", 9),
            ("PANAKKUKANG", 11),
            ("TAMALATE", 11),
            ("BIRINGKANAYA", 11),
            ("MANGGALA", 8),
            ("RAPPOCINI", 11),
            ("TAMALANREA", 8),
            ("KEPULAUAN_SANGKARRANG", 3),
        ];
        for (kecamatan, n) in counts {
            assert_eq!(per(kecamatan), n, "{kecamatan}");
        }
        // Nearby rules: the default and a flood's wider, younger one.
        assert_eq!(
            data.nearby.for_category("ROAD_DAMAGE").citizen_radius_m,
            250
        );
        let flood = data.nearby.for_category("DRAINAGE");
        assert_eq!((flood.citizen_radius_m, flood.max_age_days), (500, 7));
        let b = data.city.bounds.expect("the city's box");
        // City hall, the northernmost and the westernmost islands.
        for (lat, lon) in [
            (-5.1359, 119.4127),
            (-4.9758, 119.2147),
            (-4.9797, 119.0772),
        ] {
            assert!(b.contains_latitude(lat) && b.contains_longitude(lon));
        }
    }

    #[test]
    fn shipped_sla_settings_load() {
        let sla = load_sla(None).unwrap();
        assert_eq!(sla.calendar.utc_offset, "+08:00");
        assert!(!sla.policies.is_empty());
        let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let coverage = sla.calendar.coverage(day("2026-11-30"));
        assert_eq!(coverage.years, [2026, 2027]);
        assert!(coverage.missing.is_empty(), "{coverage:?}");
        // Cuti bersama close the offices like a holiday: 10:00 WITA on a
        // Tuesday of joint leave (9 March 2027) is not working time, the
        // Tuesday after (16 March) is.
        let (calendar, _) = sla.build().unwrap();
        let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert!(!calendar.is_working_time(at("2027-03-09T02:00:00Z")));
        assert!(calendar.is_working_time(at("2027-03-16T02:00:00Z")));
        assert!(!calendar.is_working_time(at("2026-12-24T02:00:00Z")));
    }

    #[test]
    fn a_holidays_file_adds_national_and_local_days() {
        let dir =
            std::env::temp_dir().join(format!("aduan-holidays-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("holidays.toml");
        std::fs::write(
            &path,
            "holidays = [\"2028-01-01\", \"2027-12-25\"]\nlocal_holidays = [\"2026-11-09\"]\n",
        )
        .unwrap();
        let shipped = load_sla(None).unwrap();
        let sla = load_sla_with(None, Some(&path)).unwrap();
        let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        // 2027-12-25 is shipped already: added once.
        assert_eq!(
            sla.calendar.holidays.len(),
            shipped.calendar.holidays.len() + 1
        );
        assert!(sla.calendar.holidays.contains(&day("2028-01-01")));
        assert_eq!(sla.calendar.local_holidays, [day("2026-11-09")]);
        assert!(sla.calendar.coverage(day("2027-11-30")).missing.is_empty());
        std::fs::write(&path, "holiday = [\"2027-01-01\"]\n").unwrap();
        let err = format!("{:#}", load_sla_with(None, Some(&path)).unwrap_err());
        assert!(err.contains("holidays.toml"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_broken_settings_file_is_refused_with_its_name() {
        let dir =
            std::env::temp_dir().join(format!("aduan-settings-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("reference.toml");
        std::fs::write(&path, "opds = []\nkecamatan = []\n[[categories]]\ncode = \"X\"\nname = \"x\"\ndefault_opd = \"NOPE\"\n").unwrap();
        let err = format!("{:#}", load_reference(Some(&path)).unwrap_err());
        assert!(
            err.contains("reference.toml") && err.contains("NOPE"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
