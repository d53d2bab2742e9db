//! The national platform's contract as aduan's adapter speaks it (docs/integration.md,
//! "The contract and the adapter"): report items disposed to the city, and the
//! follow-ups the city sends back, in SP4N-LAPOR!'s stages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use aduan_domain::{ComplaintEvent, Resolution};

/// A report the platform disposed (disposisi) to the city.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tracking_id: String,
    pub title: String,
    pub body: String,
    pub category: String,
    pub location: ReportLocation,
    #[serde(default)]
    pub reporter: Option<ReportReporter>,
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub attachments: Vec<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub disposed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportLocation {
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportReporter {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// One page of `GET /v1/reports`; `next` is where the following page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub items: Vec<Report>,
    #[serde(default)]
    pub next: Option<String>,
}

/// LAPOR!'s stages of a report, as the city reports them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stage {
    /// Disposisi: an OPD has the case (tindak lanjut starts).
    Disposed,
    /// Tindak lanjut: a response to the citizen.
    InFollowUp,
    /// Selesai.
    Completed,
    /// Bukan wewenang: the city does not handle it.
    Rejected,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Disposed => "DISPOSED",
            Stage::InFollowUp => "IN_FOLLOW_UP",
            Stage::Completed => "COMPLETED",
            Stage::Rejected => "REJECTED",
        }
    }

    /// Whether the platform accepts `self` after `last` (its last accepted
    /// stage of the report). A reopened case goes back to follow-up, so a
    /// response may follow COMPLETED; nothing follows REJECTED, and a case is
    /// answered or completed only once it has been disposed.
    pub fn may_follow(self, last: Option<Stage>) -> bool {
        match (last, self) {
            (Some(Stage::Rejected), _) => false,
            (_, Stage::Disposed | Stage::Rejected) => true,
            (None, Stage::InFollowUp | Stage::Completed) => false,
            (Some(_), Stage::InFollowUp | Stage::Completed) => true,
        }
    }

    /// The stage a local event reports, if any (docs/integration.md's stage mapping). A
    /// duplicate is completed in the case it duplicates; the watcher's
    /// automatic closure is LAPOR!'s own rule for a silent citizen.
    pub fn of_event(event: &ComplaintEvent) -> Option<Stage> {
        match event {
            ComplaintEvent::Assigned { .. } | ComplaintEvent::Transferred { .. } => {
                Some(Stage::Disposed)
            }
            ComplaintEvent::Responded { .. } => Some(Stage::InFollowUp),
            ComplaintEvent::Closed { resolution, .. } => Some(match resolution {
                Resolution::OutOfScope => Stage::Rejected,
                Resolution::Resolved | Resolution::NotResolved | Resolution::Duplicate => {
                    Stage::Completed
                }
            }),
            ComplaintEvent::AutoClosed { .. } => Some(Stage::Completed),
            ComplaintEvent::Rejected { .. } => Some(Stage::Rejected),
            _ => None,
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /v1/reports/{trackingId}/followups`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Followup {
    pub stage: Stage,
    pub message: String,
    pub at: DateTime<Utc>,
    pub agency: String,
}

/// How the platform took a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowupOutcome {
    /// 201: recorded now.
    Recorded,
    /// 200: the key was seen before; the earlier result stands.
    AlreadyRecorded,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
    }

    #[test]
    fn local_milestones_map_onto_lapor_stages() {
        let closed = |resolution| ComplaintEvent::Closed {
            resolution,
            summary: "s".into(),
            duplicate_of: None,
            template: None,
            occurred_at: at(),
        };
        let cases = [
            (
                ComplaintEvent::Assigned {
                    opd: "DPU".into(),
                    officer_id: None,
                    note: None,
                    occurred_at: at(),
                },
                Some(Stage::Disposed),
            ),
            (
                ComplaintEvent::Transferred {
                    from_opd: "DPU".into(),
                    to_opd: "DLH".into(),
                    reason: "r".into(),
                    reason_code: None,
                    occurred_at: at(),
                },
                Some(Stage::Disposed),
            ),
            (
                ComplaintEvent::Responded {
                    message: "m".into(),
                    template: None,
                    occurred_at: at(),
                },
                Some(Stage::InFollowUp),
            ),
            (closed(Resolution::Resolved), Some(Stage::Completed)),
            (closed(Resolution::NotResolved), Some(Stage::Completed)),
            (closed(Resolution::OutOfScope), Some(Stage::Rejected)),
            (
                ComplaintEvent::Rejected {
                    reason: aduan_domain::RejectReason::ALL[0],
                    note: None,
                    occurred_at: at(),
                },
                Some(Stage::Rejected),
            ),
            (
                ComplaintEvent::Verified {
                    priority: aduan_domain::Priority::Normal,
                    category: "ROAD_DAMAGE".into(),
                    note: None,
                    occurred_at: at(),
                },
                None,
            ),
            (
                ComplaintEvent::Reopened {
                    reason: "r".into(),
                    occurred_at: at(),
                },
                None,
            ),
        ];
        for (event, stage) in cases {
            assert_eq!(Stage::of_event(&event), stage, "{event:?}");
        }
    }

    #[test]
    fn stages_follow_lapor_order() {
        use Stage::*;
        assert!(Disposed.may_follow(None));
        assert!(Rejected.may_follow(None));
        assert!(!InFollowUp.may_follow(None));
        assert!(!Completed.may_follow(None));
        assert!(InFollowUp.may_follow(Some(Disposed)));
        assert!(InFollowUp.may_follow(Some(InFollowUp)));
        assert!(Completed.may_follow(Some(InFollowUp)));
        assert!(Disposed.may_follow(Some(InFollowUp)), "a transfer");
        assert!(InFollowUp.may_follow(Some(Completed)), "a reopened case");
        for next in [Disposed, InFollowUp, Completed, Rejected] {
            assert!(!next.may_follow(Some(Rejected)), "{next} after REJECTED");
        }
    }

    #[test]
    fn stages_and_reports_use_the_contract_json() {
        assert_eq!(
            serde_json::to_value(Stage::InFollowUp).unwrap(),
            "IN_FOLLOW_UP"
        );
        let item: Report = serde_json::from_value(serde_json::json!({
            "trackingId": "LPR-1", "title": "t", "body": "b", "category": "Infrastruktur",
            "location": {"lat": -5.1, "lon": 119.4, "address": "Jl. A"},
            "reporter": null, "anonymous": true, "confidential": false,
            "attachments": [], "createdAt": "2026-03-02T01:00:00Z",
            "disposedAt": "2026-03-02T02:00:00Z"
        }))
        .unwrap();
        assert_eq!(item.tracking_id, "LPR-1");
        assert!(item.anonymous && item.reporter.is_none());
    }
}
