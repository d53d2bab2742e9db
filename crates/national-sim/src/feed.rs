//! The platform's memory: the report feed (pages with re-deliveries and
//! shuffling), the follow-ups recorded per report, one answer per
//! Idempotency-Key, and the counters `GET /dev/state` shows.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use serde_json::{json, Value};

use aduan_integration::national::contract::{Followup, Page, Report, Stage};

use crate::config::{FeedEnd, SimulatorConfig};
use crate::seed::{seeded_report, Dice};

/// A follow-up as the platform recorded it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    pub key: String,
    pub stage: Stage,
    pub message: String,
    pub at: DateTime<Utc>,
    pub agency: String,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Counters {
    pub(crate) errors_injected: u64,
    pub(crate) timeouts_injected: u64,
    duplicates_delivered: u64,
    /// Every `GET /v1/reports`, faults included: what a bridge costs the platform.
    pub(crate) feed_requests: u64,
    pages_served: u64,
    /// Reports on the pages served (re-deliveries included).
    items_served: u64,
    /// Follow-ups whose key had been recorded before (answered 200).
    duplicate_keys: u64,
    refused_out_of_order: u64,
    refused_unknown: u64,
}

pub(crate) struct Inner {
    reports: Vec<(String, Report)>,
    index: HashMap<String, usize>,
    pub(crate) followups: HashMap<String, Vec<Received>>,
    /// Idempotency key -> (tracking id, the answer given).
    keys: HashMap<String, (String, Value)>,
    pub(crate) counters: Counters,
    pub(crate) rng: StdRng,
    /// The fault rates now (`POST /dev/faults` changes them: an outage on cue).
    pub(crate) fail_rate: f64,
    pub(crate) timeout_rate: f64,
}

impl Inner {
    /// The feed `config` seeds.
    pub(crate) fn new(config: &SimulatorConfig) -> Inner {
        let mut inner = Inner {
            reports: Vec::new(),
            index: HashMap::new(),
            followups: HashMap::new(),
            keys: HashMap::new(),
            counters: Counters::default(),
            rng: StdRng::seed_from_u64(config.seed),
            fail_rate: config.fail_rate,
            timeout_rate: config.timeout_rate,
        };
        for i in 0..config.reports {
            let report = seeded_report(config.seed, i, &mut inner.rng);
            inner.add(&config.agency, report);
        }
        inner
    }

    /// Adds a report to the end of the feed. An edited report comes again
    /// there: the feed keeps the old version where it was delivered.
    pub(crate) fn add(&mut self, agency: &str, report: Report) {
        self.index
            .insert(report.tracking_id.clone(), self.reports.len());
        self.reports.push((agency.to_string(), report));
    }

    /// Each report's latest version, in feed order.
    pub(crate) fn latest(&self) -> Vec<&Report> {
        self.reports
            .iter()
            .enumerate()
            .filter(|(i, (_, r))| self.index.get(&r.tracking_id) == Some(i))
            .map(|(_, (_, r))| r)
            .collect()
    }

    /// The page after `after` for `agency`, with the configured re-deliveries
    /// and shuffling.
    pub(crate) fn page(
        &mut self,
        config: &SimulatorConfig,
        agency: &str,
        after: usize,
        limit: usize,
    ) -> Page {
        let mut items = Vec::new();
        let mut next = after;
        for (i, (a, report)) in self.reports.iter().enumerate().skip(after) {
            if items.len() == limit {
                break;
            }
            next = i + 1;
            if a == agency {
                items.push(report.clone());
            }
        }
        let fresh = items.len();
        for _ in 0..fresh {
            if after > 0 && self.rng.chance(config.duplicate_rate) {
                let (a, earlier) = &self.reports[self.rng.below(after)];
                if a == agency {
                    items.push(earlier.clone());
                    self.counters.duplicates_delivered += 1;
                }
            }
        }
        if config.reorder {
            for i in (1..items.len()).rev() {
                let j = self.rng.below(i + 1);
                items.swap(i, j);
            }
        }
        self.counters.pages_served += 1;
        self.counters.items_served += items.len() as u64;
        let at_end = next == self.reports.len();
        let next = match config.feed_end {
            FeedEnd::Null if at_end => None,
            FeedEnd::Repeat if at_end => Some(after.to_string()),
            _ => Some(next.to_string()),
        };
        Page { items, next }
    }

    /// Records `followup` under `key`, or says why not.
    pub(crate) fn follow_up(
        &mut self,
        tracking_id: &str,
        key: &str,
        followup: Followup,
    ) -> (StatusCode, Value) {
        if let Some((earlier_id, answer)) = self.keys.get(key) {
            if earlier_id != tracking_id {
                return refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Idempotency-Key used for another report",
                );
            }
            let answer = answer.clone();
            self.counters.duplicate_keys += 1;
            return (StatusCode::OK, answer);
        }
        if !self.index.contains_key(tracking_id) {
            self.counters.refused_unknown += 1;
            return refusal(StatusCode::NOT_FOUND, "unknown tracking id");
        }
        let received = self.followups.entry(tracking_id.to_string()).or_default();
        let last = received.last().map(|r| r.stage);
        if !followup.stage.may_follow(last) {
            self.counters.refused_out_of_order += 1;
            let last = last.map_or("none".to_string(), |s| s.to_string());
            return refusal(
                StatusCode::CONFLICT,
                &format!("{} may not follow {last}", followup.stage),
            );
        }
        received.push(Received {
            key: key.to_string(),
            stage: followup.stage,
            message: followup.message,
            at: followup.at,
            agency: followup.agency,
            received_at: Utc::now(),
        });
        let answer = json!({
            "trackingId": tracking_id,
            "sequence": received.len(),
            "stage": followup.stage,
        });
        self.keys
            .insert(key.to_string(), (tracking_id.to_string(), answer.clone()));
        (StatusCode::CREATED, answer)
    }
}

pub(crate) fn refusal(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(config: SimulatorConfig) -> Inner {
        Inner::new(&config)
    }

    fn followup(stage: Stage) -> Followup {
        Followup {
            stage,
            message: "m".into(),
            at: Utc::now(),
            agency: "MAKASSAR".into(),
        }
    }

    #[test]
    fn a_key_is_recorded_once_and_answered_again_with_its_first_result() {
        let mut s = sim(SimulatorConfig {
            reports: 1,
            ..Default::default()
        });
        let id = s.reports[0].1.tracking_id.clone();
        let (first, body) = s.follow_up(&id, "c:3", followup(Stage::Disposed));
        assert_eq!(first, StatusCode::CREATED);
        let (again, body_again) = s.follow_up(&id, "c:3", followup(Stage::Disposed));
        assert_eq!((again, body_again), (StatusCode::OK, body));
        assert_eq!(s.followups[&id].len(), 1);
        assert_eq!(s.counters.duplicate_keys, 1);
    }

    #[test]
    fn unknown_reports_and_stages_out_of_order_are_refused() {
        let mut s = sim(SimulatorConfig {
            reports: 1,
            ..Default::default()
        });
        let id = s.reports[0].1.tracking_id.clone();
        assert_eq!(
            s.follow_up("LPR-NOPE", "k1", followup(Stage::Disposed)).0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            s.follow_up(&id, "k2", followup(Stage::Completed)).0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            s.follow_up(&id, "k3", followup(Stage::Rejected)).0,
            StatusCode::CREATED
        );
        assert_eq!(
            s.follow_up(&id, "k4", followup(Stage::Disposed)).0,
            StatusCode::CONFLICT,
            "nothing follows REJECTED"
        );
        // A refused key is not remembered: the same key may succeed later.
        assert!(!s.keys.contains_key("k2"));
    }

    #[test]
    fn pages_cover_every_report_once_plus_re_deliveries_of_earlier_ones() {
        let config = SimulatorConfig {
            reports: 250,
            duplicate_rate: 0.5,
            reorder: true,
            ..Default::default()
        };
        let mut s = sim(config.clone());
        let (mut after, mut seen, mut delivered) = (0, Vec::new(), 0);
        loop {
            let page = s.page(&config, "MAKASSAR", after, 40);
            let next: usize = page.next.unwrap().parse().unwrap();
            if page.items.is_empty() {
                assert_eq!(next, after, "an empty page leaves the cursor");
                break;
            }
            for item in page.items {
                let i = s.index[&item.tracking_id];
                delivered += 1;
                if i >= after {
                    seen.push(i);
                } else {
                    assert!(i < after, "a duplicate is an earlier report");
                }
            }
            after = next;
        }
        seen.sort();
        assert_eq!(seen, (0..250).collect::<Vec<_>>());
        assert!(delivered > 250, "some reports came twice");
        assert_eq!(s.counters.duplicates_delivered as usize, delivered - 250);
        assert!(
            s.page(&config, "ELSEWHERE", 0, 40).items.is_empty(),
            "another agency's feed is its own"
        );
    }

    #[test]
    fn each_end_of_the_feed_looks_as_configured() {
        let ends = [
            (FeedEnd::Empty, Some("3"), Some("3")),
            (FeedEnd::Null, None, None),
            (FeedEnd::Repeat, Some("2"), Some("3")),
        ];
        for (end, last, past) in ends {
            let config = SimulatorConfig {
                reports: 3,
                feed_end: end,
                ..Default::default()
            };
            let mut s = sim(config.clone());
            let first = s.page(&config, "MAKASSAR", 0, 2);
            assert_eq!(first.next.as_deref(), Some("2"), "{end:?}");
            let page = s.page(&config, "MAKASSAR", 2, 2);
            assert_eq!(page.items.len(), 1);
            assert_eq!(page.next.as_deref(), last, "{end:?}");
            let beyond = s.page(&config, "MAKASSAR", 3, 2);
            assert!(beyond.items.is_empty());
            assert_eq!(beyond.next.as_deref(), past, "{end:?}");
        }
    }

    #[test]
    fn an_edited_report_comes_again_at_the_end_of_the_feed() {
        let config = SimulatorConfig {
            reports: 2,
            ..Default::default()
        };
        let mut s = sim(config.clone());
        let mut edited = s.reports[0].1.clone();
        edited.title = "Diubah".into();
        s.add("MAKASSAR", edited.clone());
        let page = s.page(&config, "MAKASSAR", 2, 10);
        assert_eq!(page.items, vec![edited.clone()]);
        let latest = s.latest();
        assert_eq!(latest.len(), 2);
        assert_eq!(*latest[1], edited);
    }

    #[test]
    fn the_same_seed_gives_the_same_reports() {
        let a = sim(SimulatorConfig {
            reports: 5,
            ..Default::default()
        });
        let b = sim(SimulatorConfig {
            reports: 5,
            ..Default::default()
        });
        assert_eq!(
            a.reports.iter().map(|r| &r.1).collect::<Vec<_>>(),
            b.reports.iter().map(|r| &r.1).collect::<Vec<_>>()
        );
    }
}
