//! Folding the all-time counters of `complaint_summary_rollup` whose days have
//! passed.
//!
//! A `totalCount` counter is keyed `c|<status>|<sla_state>|<at-risk day>|<deadline
//! day>` (`rollup.rs`) so that the standing at any `now` follows from the key
//! (`rollup_reads::count_from_counters`). Open cases carry their days, so the
//! keys multiply with the days of history: two years of a city's cases left
//! 13,785 of them (a million events), each read by every list's `totalCount`
//! (11 ms on PostgreSQL, against well under 1 ms on a young log).
//!
//! Once both of a key's days are before yesterday, its standing is the same at
//! every later instant (breached if it has a deadline, at risk if it has an
//! at-risk day, else its stored state), so its count can move to the settled
//! key `c|<status>|<standing>||`, which every reader counts the same way. The
//! move adds `-n` to one key and `+n` to the other, so the total each reader
//! sees never changes, whatever the projector writes meanwhile: a later
//! decrement of the dated key (the case closed) leaves it at `-1`, counted as
//! the settled `+1` is. Yesterday's keys are left for a day, so a reader whose
//! clock is up to a day behind the folder's still skips them as "today"
//! (`today_count_query` counts those rows). The keys left are those of days
//! still to come, as many as open cases have distinct future days.

use chrono::{DateTime, Duration, Utc};

use crate::rollup::{self, day, Counter};

/// How far before the clock a count's `now` may be and still be read from the
/// counters: a fold folds only days before the day before its own clock's.
const SLACK: Duration = Duration::hours(23);

/// Whether a count as of `now` can be read from the counters (folded or not);
/// one as of an earlier instant is counted over the rows.
pub fn counters_answer(now: DateTime<Utc>) -> bool {
    now >= Utc::now() - SLACK
}

/// Folds the all-time counters of `name` (a `complaint_summary`) in the
/// database under `log` as of `now`; how many counters are gone. The summary
/// projector's leader runs it once a day.
pub async fn fold(
    log: &dyn aduan_store::EventLog,
    name: &str,
    now: DateTime<Utc>,
) -> Result<u64, aduan_store::StoreError> {
    crate::backend::for_log(log).fold_counters(name, now).await
}

/// The all-time counters that carry days (the settled ones end in `||`).
pub fn dated_query(table: &str) -> String {
    format!(
        "SELECT opd, measure, CAST(n AS BIGINT) FROM {table} \
         WHERE day = '' AND measure LIKE 'c|%' AND measure NOT LIKE '%||'"
    )
}

/// The all-time counters at zero, which every read would otherwise walk.
pub fn zeros_query(table: &str) -> String {
    format!("DELETE FROM {table} WHERE day = '' AND n = 0")
}

/// The settled key of `measure` if both its days are before `before`.
pub fn settled(measure: &str, before: &str) -> Option<String> {
    let c = Counter::parse(measure)?;
    let days = [c.at_risk, c.deadline];
    if days.iter().all(|d| d.is_empty()) || days.iter().any(|d| !d.is_empty() && *d >= before) {
        return None;
    }
    // With a day past, the standing is at risk or breached, whatever day it is.
    let standing = c.standing(before)?;
    Some(
        Counter {
            stored: standing.as_str(),
            at_risk: "",
            deadline: "",
            ..c
        }
        .key(),
    )
}

/// The roll-up changes that fold `counters` (opd, measure, n) as of `now`.
pub fn deltas(
    counters: &[(String, String, i64)],
    now: DateTime<Utc>,
) -> Vec<(String, String, String, i64)> {
    let before = day(now - Duration::days(1));
    let mut sums = rollup::Deltas::new();
    for (opd, measure, n) in counters {
        if let Some(settled) = settled(measure, &before) {
            // Many dated keys fold into one settled key: one change each.
            rollup::add(&mut sums, opd, "", measure.clone(), -n);
            rollup::add(&mut sums, opd, "", settled, *n);
        }
    }
    rollup::sorted(sums)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::TimeZone;

    use aduan_domain::sla::TimerState;

    use super::*;
    use crate::rollup_reads::count_from_counters;
    use crate::summary_query::SummaryFilter;

    fn counters() -> Vec<(String, String, i64)> {
        let days = [
            "",
            "2026-11-20",
            "2026-12-04",
            "2026-12-05",
            "2026-12-06",
            "2026-12-09",
        ];
        let mut out = Vec::new();
        let mut n = 1;
        for status in ["ASSIGNED", "CLOSED"] {
            for stored in ["ON_TRACK", "AT_RISK", "BREACHED", "MET", ""] {
                for a in days {
                    for d in days {
                        if a.is_empty() || d.is_empty() || a <= d {
                            out.push((String::new(), format!("c|{status}|{stored}|{a}|{d}"), n));
                            n = n % 7 + 1;
                        }
                    }
                }
            }
        }
        out
    }

    /// Applies `deltas` to `counters`, as the upsert adds them.
    fn apply(
        counters: &[(String, String, i64)],
        deltas: &[(String, String, String, i64)],
    ) -> Vec<(String, i64)> {
        let mut sums: HashMap<String, i64> =
            counters.iter().map(|(_, m, n)| (m.clone(), *n)).collect();
        for (_, _, m, n) in deltas {
            *sums.entry(m.clone()).or_default() += n;
        }
        sums.into_iter().collect()
    }

    fn filters(now: DateTime<Utc>) -> Vec<SummaryFilter> {
        let mut out = vec![SummaryFilter {
            now,
            ..Default::default()
        }];
        for states in [
            vec![TimerState::Breached],
            vec![TimerState::AtRisk],
            vec![TimerState::OnTrack],
            vec![TimerState::Met, TimerState::Breached],
        ] {
            out.push(SummaryFilter {
                now,
                sla_states: states.clone(),
                ..Default::default()
            });
            out.push(SummaryFilter {
                now,
                statuses: vec!["ASSIGNED".into()],
                sla_states: states,
                ..Default::default()
            });
        }
        out
    }

    #[test]
    fn a_fold_changes_no_count_from_a_day_before_it_on() {
        let folded_at = Utc.with_ymd_and_hms(2026, 12, 6, 0, 30, 0).unwrap();
        let counters = counters();
        let deltas = deltas(&counters, folded_at);
        assert!(deltas.len() > 20, "something to fold");
        let after = apply(&counters, &deltas);
        let plain: Vec<(String, i64)> = counters.iter().map(|(_, m, n)| (m.clone(), *n)).collect();
        for hours in [-24, -1, 0, 5, 23, 24, 48, 24 * 5, 24 * 30] {
            for f in filters(folded_at + Duration::hours(hours)) {
                assert_eq!(
                    count_from_counters(&f, &after),
                    count_from_counters(&f, &plain),
                    "{hours} h after the fold, {f:?}"
                );
            }
        }
    }

    #[test]
    fn only_past_days_fold_and_a_negative_count_folds_too() {
        let before = "2026-12-05";
        assert_eq!(
            settled("c|ASSIGNED|ON_TRACK|2026-12-01|2026-12-04", before).as_deref(),
            Some("c|ASSIGNED|BREACHED||")
        );
        assert_eq!(
            settled("c|ASSIGNED|ON_TRACK|2026-12-01|", before).as_deref(),
            Some("c|ASSIGNED|AT_RISK||")
        );
        assert_eq!(
            settled("c|ASSIGNED|BREACHED|2026-12-01|", before).as_deref(),
            Some("c|ASSIGNED|BREACHED||")
        );
        assert_eq!(
            settled("c|ASSIGNED|ON_TRACK|2026-12-01|2026-12-05", before),
            None
        );
        assert_eq!(settled("c|CLOSED|MET||", before), None);
        assert_eq!(settled("open", before), None);
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
        // Two dated keys into one settled key (one change for it), and a
        // negative count left by a decrement after an earlier fold.
        let moved = deltas(
            &[
                (
                    "DPU".into(),
                    "c|ASSIGNED|ON_TRACK|2026-12-01|2026-12-02".into(),
                    -1,
                ),
                (
                    "DPU".into(),
                    "c|ASSIGNED|AT_RISK|2026-11-01|2026-11-03".into(),
                    3,
                ),
            ],
            now,
        );
        assert_eq!(
            moved,
            [
                (
                    "DPU".into(),
                    String::new(),
                    "c|ASSIGNED|AT_RISK|2026-11-01|2026-11-03".into(),
                    -3
                ),
                (
                    "DPU".into(),
                    String::new(),
                    "c|ASSIGNED|BREACHED||".into(),
                    2
                ),
                (
                    "DPU".into(),
                    String::new(),
                    "c|ASSIGNED|ON_TRACK|2026-12-01|2026-12-02".into(),
                    1
                ),
            ]
        );
    }
}
