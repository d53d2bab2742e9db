//! `aduan sla what-if`: a proposed SLA policy and calendar against the log's
//! cases of a period, printed as a table or JSON (docs/operations.md).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Subcommand;

use aduan_domain::sla::whatif::{Comparison, Figures, GroupFigures};
use aduan_store::PgOptions;

use aduan_domain::sla::SlaConfig;

use super::{connect, Cli};
use crate::whatif::Rules;

#[derive(Debug, Subcommand)]
pub enum SlaCommands {
    /// Replay the cases submitted in a period under a proposed policy (and
    /// calendar), side by side with the actual; reads the log, writes nothing.
    /// `--holidays FILE` here adds its days to the proposed calendar only.
    WhatIf {
        /// The proposal: `[[policies]]` as in the SLA settings, and optionally
        /// a whole `[calendar]`.
        /// Without it, the policies in force.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Propose the settings' calendar change VERSION as if known from its
        /// `effective_from`: the cases a correction of the past would move
        /// (`moved`), for `aduan sla correct-calendar` (docs/operations.md).
        #[arg(long, value_name = "VERSION")]
        calendar_correction: Option<u32>,
        /// The first day of the period (city's local date, YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// The last day of the period, included.
        #[arg(long)]
        to: NaiveDate,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Apply the settings' calendar change VERSION, a correction of the past,
    /// to the cases of a period it moves (those `what-if
    /// --calendar-correction VERSION` lists): each gets a `CalendarCorrected`
    /// event, once. Run the what-if first.
    CorrectCalendar {
        #[arg(long)]
        version: u32,
        /// The first day of the period (city's local date, YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// The last day of the period, included.
        #[arg(long)]
        to: NaiveDate,
    },
}

pub(super) async fn run(cli: &Cli, command: &SlaCommands) -> anyhow::Result<()> {
    // The actual side is what the server runs with: the settings and the
    // environment's holidays file. `--holidays` on this command is the proposal's.
    let env_holidays = std::env::var_os("ADUAN_HOLIDAYS").map(PathBuf::from);
    let actual =
        crate::settings::load_sla_with(cli.sla_config.as_deref(), env_holidays.as_deref())?;
    let (policy, calendar_correction, from, to, json) = match command {
        SlaCommands::WhatIf {
            policy,
            calendar_correction,
            from,
            to,
            json,
        } => (policy, calendar_correction, from, to, json),
        SlaCommands::CorrectCalendar { version, from, to } => {
            return super::calendar_correction::run(cli, &actual, *version, (*from, *to)).await;
        }
    };
    let mut proposed = Rules::of(&proposal(cli, &actual, policy.as_ref())?)?;
    if let Some(version) = calendar_correction {
        proposed = proposed
            .corrected(*version)
            .ok_or_else(|| anyhow::anyhow!("the settings have no calendar version {version}"))?;
    }
    let period = crate::whatif::period(&actual, *from, *to, chrono::Utc::now())
        .ok_or_else(|| anyhow::anyhow!("--to must not be before --from"))?;
    let log = connect(cli, &PgOptions::default())?;
    let started = std::time::Instant::now();
    let actual = Rules::of(&actual)?;
    let comparison = crate::whatif::run(log.as_ref(), period, &actual, &proposed).await?;
    if *json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", table(&comparison));
    }
    eprintln!(
        "replayed {} cases in {:.1} s",
        comparison.total.actual.cases,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The proposed settings: the policy file's, or those in force, with the
/// days of `--holidays` added.
fn proposal(cli: &Cli, actual: &SlaConfig, policy: Option<&PathBuf>) -> anyhow::Result<SlaConfig> {
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    };
    let holidays = cli.holidays.as_ref().map(read).transpose()?;
    Ok(match policy {
        Some(path) => crate::whatif::proposal(actual, &read(path)?, holidays.as_deref())?,
        None => {
            let mut config = actual.clone();
            if let Some(text) = holidays {
                crate::settings::add_holidays(&mut config, &text)?;
            }
            config
        }
    })
}

fn hours(seconds: Option<i64>) -> String {
    seconds.map_or_else(|| "-".into(), |s| format!("{:.1}", s as f64 / 3600.0))
}

fn columns(f: &Figures) -> String {
    format!(
        "{:>5} {:>5} {:>5} {:>5} {:>8} {:>8}",
        f.met,
        f.breached,
        f.at_risk,
        f.on_track,
        hours(f.median_first_response_seconds),
        hours(f.median_close_seconds)
    )
}

fn line(out: &mut String, opd: &str, category: &str, g: &GroupFigures) {
    let _ = writeln!(
        out,
        "{opd:<10} {category:<18} {:>6} | {} | {}",
        g.actual.cases,
        columns(&g.actual),
        columns(&g.proposed)
    );
}

/// The comparison as a table: per OPD and category, actual then proposed
/// (met, breached, at risk, on track at the end; median hours to the first
/// response and to closure), then the cases whose state changes.
pub fn table(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "period {} .. {}", c.period.from, c.period.to);
    let head = format!(
        "{:>5} {:>5} {:>5} {:>5} {:>8} {:>8}",
        "met", "brch", "risk", "track", "resp h", "close h"
    );
    let _ = writeln!(
        out,
        "{:<10} {:<18} {:>6} | {:<42} | proposed",
        "OPD", "category", "cases", "actual"
    );
    let _ = writeln!(out, "{:<10} {:<18} {:>6} | {head} | {head}", "", "", "");
    for g in &c.groups {
        line(&mut out, g.opd.as_deref().unwrap_or("-"), &g.category, g);
    }
    line(&mut out, "all", "", &c.total);
    let _ = writeln!(out, "\n{} cases change:", c.changed.len());
    for case in &c.changed {
        let _ = writeln!(
            out,
            "{}  {} {}  {} -> {}",
            case.complaint_id,
            case.opd.as_deref().unwrap_or("-"),
            case.category,
            case.actual.state.as_str(),
            case.proposed.state.as_str()
        );
    }
    let _ = writeln!(out, "\n{} cases have a deadline that moves:", c.moved.len());
    let quoted: Vec<String> = c.moved.iter().map(|id| format!("\"{id}\"")).collect();
    let _ = writeln!(out, "cases = [{}]", quoted.join(", "));
    out
}
