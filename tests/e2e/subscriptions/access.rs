//! The subscription rows of the access table, probed over a real WebSocket for
//! `access.rs`'s walk of every cell. Each probe answers: did this caller receive
//! case A (own) or nothing of it (other)? A refusal is an `error` message with a
//! refusal code. What a notice shows is checked on the way: the actor only to
//! those who may read the history, the reporter and the exact address only to
//! those who may see them, INTERNAL notes only to staff.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};

use aduan_domain::access::{access, Access, Operation, ROLES};
use aduan_domain::Role;
use aduan_testkit::{Reply, WsClient};

use crate::access::{forged, refused, submit_as, Case, Cast, Who, World};
use crate::support::*;

/// The shipped SLA settings with AT_RISK at 1 % of a target and a one-minute
/// follow-up target for FIRE cases (their clock turns 0.6 s after dispatch);
/// FIRE's dispatch target grows to a day, so it does not turn in the test.
pub fn fast_turning_sla() -> PathBuf {
    let shipped = include_str!("../../../config/sla.toml");
    let fast = shipped
        .replace("at_risk_percent = 80", "at_risk_percent = 1")
        .replace(
            "  category = \"FIRE\"\n  dispatch = { amount = 5, unit = \"calendar_minutes\" }\n  respond = { amount = 15, unit = \"calendar_minutes\" }",
            "  category = \"FIRE\"\n  dispatch = { amount = 24, unit = \"calendar_hours\" }\n  respond = { amount = 1, unit = \"calendar_minutes\" }",
        );
    assert!(
        fast.contains("at_risk_percent = 1\n")
            && fast.contains("respond = { amount = 1, unit = \"calendar_minutes\" }"),
        "config/sla.toml changed: update fast_turning_sla"
    );
    let path =
        std::env::temp_dir().join(format!("aduan-sla-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, fast).unwrap();
    path
}

const EVENTS: &str = "subscription($after: Int) { complaintEvents(afterPosition: $after) { \
    position type complaintId actor role complaint { id opd reporter { name phone } \
    location { address } notes { text visibility } } } }";
const UPDATED: &str =
    "subscription($id: ID!, $after: Int) { complaintUpdated(id: $id, afterPosition: $after) { \
    id version reporter { name } location { address } notes { text } } }";
const TRACKED: &str =
    "subscription($code: String!) { trackedComplaintUpdated(trackingCode: $code) { \
    id status notes { text } } }";
const ALERTS: &str =
    "subscription { slaAlerts { complaintId opd state at timer { leg state atRiskAt } } }";

const INTERNAL: &str = "Catatan internal langsung: pelapor kerabat petugas.";
const PUBLIC: &str = "Kabar untuk warga: tim berangkat besok.";
const SENTINEL: &str = "Catatan DLH.";

/// A probe waits this long for what it must receive.
const WAIT: Duration = Duration::from_secs(10);

/// The events the probes read (from the log, with `afterPosition`): an INTERNAL
/// then a PUBLIC note on case A (with DPU), then a note on case B (warga-2's,
/// with DLH), which everyone who may not see A may see.
pub struct Subscriptions {
    a: Case,
    after: i64,
    internal: i64,
    public: i64,
    sentinel: i64,
    /// The `slaAlerts` cells, probed all at once.
    alerts: Option<HashMap<(Role, Who), bool>>,
}

/// The token a client carries ("" for the public).
fn token(cast: &Cast, role: Role, who: Who) -> String {
    cast.get(role, who).token.clone()
}

async fn connect(env: &Env, token: &str) -> WsClient {
    env.server.ws(Some(token)).await
}

/// The first reply to `id`, or `None` if nothing came.
async fn first(ws: &mut WsClient, id: &str) -> Option<Reply> {
    ws.reply_within(id, WAIT).await
}

fn refusal(errors: &Value, what: &str) -> bool {
    let body = json!({ "errors": errors });
    assert!(refused(&body), "{what}: not a refusal: {errors}");
    false
}

impl Subscriptions {
    pub async fn build(env: &Env, cast: &Cast, world: &World) -> Subscriptions {
        let after = crate::subscriptions::log_head(env).await;
        let officer = &cast.dpu_officer;
        let internal = crate::subscriptions::note(officer, &world.a.id, INTERNAL, "INTERNAL").await;
        let public = crate::subscriptions::note(officer, &world.a.id, PUBLIC, "PUBLIC").await;
        let dlh = cast.get(Role::OpdOfficer, Who::Other);
        let sentinel = crate::subscriptions::note(dlh, &world.b.id, SENTINEL, "PUBLIC").await;
        Subscriptions {
            a: world.a.clone(),
            after,
            internal,
            public,
            sentinel,
            alerts: None,
        }
    }

    pub async fn probe(
        &mut self,
        env: &Env,
        cast: &Cast,
        op: Operation,
        role: Role,
        who: Who,
    ) -> bool {
        let what = format!("{op:?} as {role} ({who:?})");
        let a = &self.a.clone();
        match op {
            Operation::ComplaintEvents => self.events(env, cast, role, who, a, &what).await,
            Operation::ComplaintUpdated => self.updated(env, cast, role, who, a, &what).await,
            Operation::TrackedComplaintUpdated => tracked(env, cast, role, who, a, &what).await,
            Operation::SlaAlerts => {
                if self.alerts.is_none() {
                    self.alerts = Some(alerts(env, cast).await);
                }
                self.alerts.as_ref().unwrap()[&(role, who)]
            }
            _ => unreachable!("{op:?} is not a subscription"),
        }
    }

    /// `complaintEvents` from before the notes: own callers read until A's
    /// PUBLIC note, others until B's note; whether A's notes reached them.
    async fn events(
        &self,
        env: &Env,
        cast: &Cast,
        role: Role,
        who: Who,
        a: &Case,
        what: &str,
    ) -> bool {
        let mut ws = connect(env, &token(cast, role, who)).await;
        ws.subscribe("e", EVENTS, json!({"after": self.after}))
            .await;
        let until = match who {
            Who::Own => self.public,
            Who::Other => self.sentinel,
        };
        let mut notices = Vec::new();
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ws.reply_within("e", left).await {
                Some(Reply::Error(errors)) => return refusal(&errors, what),
                Some(Reply::Next(payload)) => {
                    let n = payload["data"]["complaintEvents"].clone();
                    assert!(payload.get("errors").is_none(), "{what}: {payload}");
                    let done = n["position"] == json!(until);
                    notices.push(n);
                    if done {
                        break;
                    }
                }
                other => panic!("{what}: {other:?} before position {until}"),
            }
        }
        let of_a: Vec<&Value> = notices
            .iter()
            .filter(|n| n["complaintId"] == json!(a.id))
            .collect();
        for n in &of_a {
            self.check_shown(role, n, &n["complaint"], what);
        }
        let internal_seen = of_a.iter().any(|n| n["position"] == json!(self.internal));
        if who == Who::Own {
            let staff = access(role, Operation::InternalNotes) != Access::Refused;
            assert_eq!(internal_seen, staff, "{what}: the INTERNAL note's event");
        }
        !of_a.is_empty()
    }

    /// What a case in a notice shows `role`, as the table says (own case A,
    /// reported by name, not anonymously).
    fn check_shown(&self, role: Role, notice: &Value, complaint: &Value, what: &str) {
        let own = |op| access(role, op) != Access::Refused;
        if !notice.is_null() && notice.get("actor").is_some() {
            assert_eq!(
                notice["actor"].is_string(),
                own(Operation::ComplaintHistory),
                "{what}: actor in {notice}"
            );
        }
        assert_eq!(
            complaint["reporter"].is_object(),
            own(Operation::ReporterContact),
            "{what}: reporter in {complaint}"
        );
        assert_eq!(
            complaint["location"]["address"].is_string(),
            own(Operation::ExactAddress),
            "{what}: address in {complaint}"
        );
        let texts = complaint["notes"].to_string();
        if !own(Operation::InternalNotes) {
            assert!(
                !texts.contains(INTERNAL),
                "{what}: INTERNAL note in {complaint}"
            );
        }
    }

    /// `complaintUpdated(A)` from before the notes: the first update is the
    /// INTERNAL note's for staff, the PUBLIC note's for everyone else.
    async fn updated(
        &self,
        env: &Env,
        cast: &Cast,
        role: Role,
        who: Who,
        a: &Case,
        what: &str,
    ) -> bool {
        let mut ws = connect(env, &token(cast, role, who)).await;
        ws.subscribe("u", UPDATED, json!({"id": a.id, "after": self.after}))
            .await;
        match first(&mut ws, "u").await {
            Some(Reply::Error(errors)) => refusal(&errors, what),
            Some(Reply::Next(payload)) => {
                let c = payload["data"]["complaintUpdated"].clone();
                assert_eq!(c["id"], json!(a.id), "{what}");
                self.check_shown(role, &Value::Null, &c, what);
                let staff = access(role, Operation::InternalNotes) != Access::Refused;
                let texts = c["notes"].to_string();
                assert_eq!(texts.contains(INTERNAL), staff, "{what}: {c}");
                assert_eq!(texts.contains(PUBLIC), !staff, "{what}: first update {c}");
                true
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// `trackedComplaintUpdated` with A's code (own) or a forged one (other): a
/// PUBLIC note on A is an update to its holder; the subscription starts "from
/// now", so the note is repeated until one arrives.
async fn tracked(env: &Env, cast: &Cast, role: Role, who: Who, a: &Case, what: &str) -> bool {
    let code = match who {
        Who::Own => a.code.clone(),
        Who::Other => forged(&a.code),
    };
    let mut ws = connect(env, &token(cast, role, who)).await;
    ws.subscribe("t", TRACKED, json!({"code": code})).await;
    for _ in 0..20 {
        crate::subscriptions::note(&cast.dpu_officer, &a.id, "Masih dikerjakan.", "PUBLIC").await;
        match ws.reply_within("t", Duration::from_millis(500)).await {
            None => continue,
            Some(Reply::Error(errors)) => {
                // A wrong code does not tell whether the case exists.
                assert_eq!(
                    aduan_testkit::ws::error_code(&errors),
                    Some("NOT_FOUND"),
                    "{what}: {errors}"
                );
                return refusal(&errors, what);
            }
            Some(Reply::Next(payload)) => {
                let c = payload["data"]["trackedComplaintUpdated"].clone();
                assert_eq!(c["id"], json!(a.id), "{what}: {payload}");
                assert!(!c["notes"].to_string().contains(INTERNAL), "{what}: {c}");
                if role == Role::Public {
                    internal_notes_are_no_update(cast, &mut ws, a, what).await;
                }
                return true;
            }
            Some(other) => panic!("{what}: {other:?}"),
        }
    }
    false
}

/// After an INTERNAL note and then a PUBLIC one, the next update is the PUBLIC
/// one's: the INTERNAL note sent the public view nothing.
async fn internal_notes_are_no_update(cast: &Cast, ws: &mut WsClient, a: &Case, what: &str) {
    let officer = &cast.dpu_officer;
    // Updates of the repeated notes may still be on their way.
    crate::subscriptions::note(officer, &a.id, INTERNAL, "INTERNAL").await;
    let marker = format!("Penanda {}", uuid::Uuid::new_v4().simple());
    crate::subscriptions::note(officer, &a.id, &marker, "PUBLIC").await;
    loop {
        let c = ws.next_data("t").await["trackedComplaintUpdated"].clone();
        let texts: Vec<&str> = c["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["text"].as_str().unwrap())
            .collect();
        assert!(!c.to_string().contains(INTERNAL), "{what}: {c}");
        if texts.contains(&marker.as_str()) {
            assert_eq!(texts.last(), Some(&marker.as_str()));
            break;
        }
        assert_eq!(texts.last(), Some(&"Masih dikerjakan."), "{what}: {c}");
    }
}

/// `slaAlerts` for every role, own and other, at once: a FIRE case dispatched
/// to DPU (X) turns AT_RISK, then one dispatched to DLH (Y). Own callers wait
/// for X; others for Y, having seen X or not before it.
async fn alerts(env: &Env, cast: &Cast) -> HashMap<(Role, Who), bool> {
    let mut probes = Vec::new();
    for role in ROLES {
        for who in [Who::Own, Who::Other] {
            let mut ws = connect(env, &token(cast, role, who)).await;
            ws.subscribe("a", ALERTS, json!({})).await;
            probes.push(((role, who), ws));
        }
    }
    let warga = cast.get(Role::Citizen, Who::Own);
    let fire = json!({"category": "FIRE"});
    let x = submit_as(warga, fire.clone()).await;
    cast.dispatch(&x, "DPU").await;
    let y = submit_as(warga, fire).await;
    cast.dispatch(&y, "DLH").await;
    let (x, y) = (&x.id, &y.id);
    let results = join_all(probes.into_iter().map(|((role, who), mut ws)| async move {
        let what = format!("SlaAlerts as {role} ({who:?})");
        let mut seen_x = false;
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ws.reply_within("a", left).await {
                Some(Reply::Error(errors)) => return ((role, who), refusal(&errors, &what)),
                Some(Reply::Next(payload)) => {
                    let alert = &payload["data"]["slaAlerts"];
                    assert!(payload.get("errors").is_none(), "{what}: {payload}");
                    if role.is_opd_scoped() {
                        let opd = if who == Who::Own { "DPU" } else { "DLH" };
                        assert_eq!(alert["opd"], json!(opd), "{what}: {alert}");
                    }
                    if alert["complaintId"] == json!(x) {
                        seen_x = true;
                        assert_eq!(alert["state"], "AT_RISK", "{what}: {alert}");
                        assert_eq!(alert["timer"]["leg"], "RESPOND", "{what}: {alert}");
                        assert_eq!(alert["at"], alert["timer"]["atRiskAt"], "{what}");
                    }
                    let done = match who {
                        Who::Own => seen_x,
                        Who::Other => alert["complaintId"] == json!(y),
                    };
                    if done {
                        return ((role, who), seen_x);
                    }
                }
                None => return ((role, who), seen_x),
                Some(other) => panic!("{what}: {other:?}"),
            }
        }
    }))
    .await;
    results.into_iter().collect()
}
