//! Walks every cell of the access policy (`aduan_domain::access`, printed in
//! docs/security.md) against the running server. Each role is probed twice on
//! the same case: as "own" (the DPU staff the case is with, the citizen who
//! reported it, the holder of its tracking code) and as "other" (DLH staff,
//! another citizen, a wrong code). A cell expects:
//!
//! | cell | own | other |
//! |---|---|---|
//! | allowed | done | done |
//! | own OPD / own cases | done | refused or not shown |
//! | refused | refused | refused |
//!
//! Refused mutations must append nothing; lists, totals, timers, dashboards and
//! statistics of a scoped caller must hold nothing outside their scope.
//! Subscriptions are probed over a real WebSocket (`subscriptions/access.rs`):
//! refused is an `error` message, done is a notice about the probed case.

use std::collections::HashMap;

use serde_json::{json, Value};

use aduan_api::graphql::access_table::{self, Kind};
use aduan_domain::access::{access, Access, Operation, ROLES};
use aduan_domain::Role;
use aduan_testkit::GraphqlClient;

use crate::subscriptions::access::Subscriptions;
use crate::support::*;

on_both_stores!(every_cell_of_the_access_policy_holds);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Own,
    Other,
}

/// The clients for each role, as "own" and "other".
pub struct Cast {
    clients: HashMap<(Role, Who), GraphqlClient>,
    /// Staff who prepare cases: the Command Center and DPU.
    agent: GraphqlClient,
    pub dpu_officer: GraphqlClient,
    auditor: GraphqlClient,
}

impl Cast {
    async fn new(env: &Env) -> Cast {
        let mut clients = HashMap::new();
        for role in ROLES {
            for who in [Who::Own, Who::Other] {
                let client = match (role, who) {
                    (Role::Public, _) => env.server.client(""),
                    (Role::Citizen, Who::Own) => env.citizen.clone(),
                    (Role::Citizen, Who::Other) => env.client("CITIZEN", None, "warga-2").await,
                    (r, w) if r.is_opd_scoped() => {
                        let opd = if w == Who::Own { "DPU" } else { "DLH" };
                        let sub = format!("{}-{opd}", r.as_str());
                        env.client(r.as_str(), Some(opd), &sub).await
                    }
                    (r, _) => env.client(r.as_str(), None, &format!("{r}-1")).await,
                };
                clients.insert((role, who), client);
            }
        }
        Cast {
            clients,
            agent: env.agent.clone(),
            dpu_officer: env.dpu_officer.clone(),
            auditor: env.auditor.clone(),
        }
    }

    pub fn get(&self, role: Role, who: Who) -> &GraphqlClient {
        &self.clients[&(role, who)]
    }
}

/// A case as prepared for a probe: its id and tracking code.
#[derive(Clone)]
pub struct Case {
    pub id: String,
    pub code: String,
    /// The incident's primary a link probe links to (or unlinks from).
    pub primary: Option<String>,
}

const SUBMIT_WITH_CODE: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id trackingCode } }";

/// The world the query probes look at: case A (the one probed: reported by
/// warga-1, with DPU, sent by MOBILE, with an INTERNAL and a PUBLIC note), B
/// (warga-2's, with DLH, WEB) and C (warga-1's anonymous report, with DPU, WEB).
pub struct World {
    pub a: Case,
    pub b: Case,
    c: Case,
    /// Open cases per OPD, and who reported what.
    open: HashMap<&'static str, i64>,
    reported: HashMap<&'static str, Vec<String>>,
}

pub async fn submit_as(client: &GraphqlClient, fields: Value) -> Case {
    let mut report = report();
    report["location"]["address"] = json!("Jl. Veteran Selatan 12");
    report["reporter"]["email"] = json!("andi@contoh.id");
    for (key, value) in fields.as_object().unwrap() {
        report[key] = value.clone();
    }
    let data = client.ok(SUBMIT_WITH_CODE, json!({"input": report})).await;
    Case {
        id: data["submitComplaint"]["id"].as_str().unwrap().to_string(),
        code: data["submitComplaint"]["trackingCode"]
            .as_str()
            .expect("a submission returns a tracking code")
            .to_string(),
        primary: None,
    }
}

impl Cast {
    async fn verify(&self, case: &Case) {
        self.agent
            .ok(MUTATE_VERIFY, input(&case.id, json!({})))
            .await;
    }

    pub async fn dispatch(&self, case: &Case, opd: &str) {
        self.verify(case).await;
        self.agent
            .ok(MUTATE_ASSIGN, input(&case.id, json!({"opd": opd})))
            .await;
    }

    async fn close(&self, case: &Case) {
        self.dpu_officer
            .ok(
                MUTATE_CLOSE,
                input(
                    &case.id,
                    json!({"resolution": "RESOLVED", "summary": "Ditambal."}),
                ),
            )
            .await;
    }

    /// A fresh case reported by warga-1, at the stage `op` by `role` needs.
    async fn prepared(&self, op: Operation, role: Role) -> Case {
        let case = submit_as(self.get(Role::Citizen, Who::Own), json!({})).await;
        let command_center = role.is_command_center();
        match op {
            Operation::Verify | Operation::Reject => {}
            Operation::Assign | Operation::RequestInfo if command_center => {
                self.verify(&case).await
            }
            Operation::ProvideInfo => {
                self.dispatch(&case, "DPU").await;
                self.dpu_officer
                    .ok(
                        MUTATE_REQUEST_INFO,
                        input(&case.id, json!({"question": "Sebelah mana?"})),
                    )
                    .await;
            }
            Operation::Reopen | Operation::Rate | Operation::AnswerSurvey => {
                self.dispatch(&case, "DPU").await;
                self.close(&case).await;
            }
            Operation::LinkDuplicate | Operation::UnlinkDuplicate => {
                return self.with_primary(op, case).await
            }
            _ => self.dispatch(&case, "DPU").await,
        }
        case
    }

    /// Both with DPU: a case and the primary it is linked to (for the
    /// unlinking probe) or may be linked to.
    async fn with_primary(&self, op: Operation, mut case: Case) -> Case {
        let primary = submit_as(self.get(Role::Citizen, Who::Other), json!({})).await;
        self.dispatch(&primary, "DPU").await;
        self.dispatch(&case, "DPU").await;
        if op == Operation::UnlinkDuplicate {
            let link = json!({"primaryId": primary.id, "reason": "Saluran yang sama."});
            self.agent.ok(MUTATE_LINK, input(&case.id, link)).await;
        }
        case.primary = Some(primary.id);
        case
    }

    async fn version(&self, id: &str) -> usize {
        self.auditor.ok(HISTORY, json!({"id": id})).await["complaintHistory"]
            .as_array()
            .unwrap()
            .len()
    }
}

/// The mutation document and input for `op` on `case`, as `role` would send it.
fn mutation(op: Operation, role: Role, who: Who, case: &Case) -> (&'static str, Value) {
    let fields = match op {
        Operation::Submit => return (SUBMIT, json!({"input": report()})),
        Operation::Verify => json!({}),
        Operation::Reject => json!({"reason": "SPAM"}),
        Operation::CorrectLocation => {
            json!({"location": {"kecamatan": "TALLO"}, "reason": "Pelapor menelepon."})
        }
        Operation::Assign if role.is_opd_scoped() => {
            json!({"opd": "DPU", "officerId": "petugas-baru"})
        }
        Operation::Assign => json!({"opd": "DPU"}),
        Operation::Transfer => {
            json!({"toOpd": "DISHUB", "reasonCode": "BUKAN_WEWENANG", "note": "Rambu lalu lintas"})
        }
        Operation::ReturnToCommandCenter => {
            json!({"reasonCode": "BUKAN_WEWENANG", "note": "Bukan jalan kota"})
        }
        Operation::Respond => json!({"message": "Kami periksa hari ini."}),
        Operation::RequestInfo => json!({"question": "Sebelah mana?"}),
        Operation::ProvideInfo => json!({"answer": "Utara, dekat halte."}),
        Operation::RecordFieldHandling => {
            json!({"notes": "Ditambal.", "handledAt": chrono::Utc::now().to_rfc3339()})
        }
        Operation::Escalate => json!({"reason": "Berbahaya"}),
        Operation::LinkDuplicate => json!({"primaryId": case.primary, "reason": "Sama."}),
        Operation::UnlinkDuplicate => json!({"reason": "Ternyata berbeda."}),
        Operation::Close => json!({"resolution": "RESOLVED", "summary": "Selesai."}),
        Operation::Reopen => json!({"reason": "Lubang muncul lagi."}),
        Operation::Rate if who == Who::Own => json!({"score": 4, "trackingCode": case.code}),
        Operation::Rate => json!({"score": 4, "trackingCode": forged(&case.code)}),
        Operation::AddNote => json!({"text": "Pelapor dihubungi.", "visibility": "INTERNAL"}),
        Operation::AnswerSurvey => {
            let code = match who {
                Who::Own => case.code.clone(),
                Who::Other => forged(&case.code),
            };
            json!({"answers": survey_answers([4; 9]), "trackingCode": code})
        }
        Operation::OptOutOfNotifications => {
            let code = match who {
                Who::Own => case.code.clone(),
                Who::Other => forged(&case.code),
            };
            json!({"trackingCode": code})
        }
        _ => unreachable!("{op:?} is not a mutation"),
    };
    let document = match op {
        Operation::Verify => MUTATE_VERIFY,
        Operation::Reject => MUTATE_REJECT,
        Operation::CorrectLocation => MUTATE_CORRECT_LOCATION,
        Operation::LinkDuplicate => MUTATE_LINK,
        Operation::UnlinkDuplicate => MUTATE_UNLINK,
        Operation::Assign => MUTATE_ASSIGN,
        Operation::Transfer => MUTATE_TRANSFER,
        Operation::ReturnToCommandCenter => MUTATE_RETURN,
        Operation::Respond => MUTATE_RESPOND,
        Operation::RequestInfo => MUTATE_REQUEST_INFO,
        Operation::ProvideInfo => MUTATE_PROVIDE_INFO,
        Operation::RecordFieldHandling => MUTATE_FIELD,
        Operation::Escalate => MUTATE_ESCALATE,
        Operation::Close => MUTATE_CLOSE,
        Operation::Reopen => MUTATE_REOPEN,
        Operation::AddNote => MUTATE_ADD_NOTE,
        Operation::AnswerSurvey => MUTATE_ANSWER_SURVEY,
        Operation::OptOutOfNotifications => MUTATE_OPT_OUT,
        _ => MUTATE_RATE,
    };
    (document, input(&case.id, fields))
}

/// The code with its last character changed: names the same case, proves nothing.
pub fn forged(code: &str) -> String {
    let mut forged = code.to_string();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    forged
}

/// The refusal codes a caller may get: UNAUTHENTICATED tells the public to sign
/// in; FORBIDDEN tells the signed-in they may not; NOT_FOUND hides a case from
/// a wrong tracking code.
pub fn refused(body: &Value) -> bool {
    matches!(
        error_code(body),
        Some("FORBIDDEN" | "UNAUTHENTICATED" | "NOT_FOUND")
    )
}

/// Whether a body is a success; panics on any error other than a refusal.
fn done(body: &Value, what: &str) -> bool {
    if body.get("errors").is_none() {
        return true;
    }
    assert!(
        refused(body),
        "{what}: an error that is not a refusal: {body}"
    );
    false
}

fn window() -> Value {
    let now = chrono::Utc::now();
    json!({
        "from": (now - chrono::Duration::days(1)).to_rfc3339(),
        "to": (now + chrono::Duration::days(1)).to_rfc3339(),
    })
}

impl World {
    async fn build(cast: &Cast) -> World {
        let warga_1 = cast.get(Role::Citizen, Who::Own);
        let warga_2 = cast.get(Role::Citizen, Who::Other);
        let a = submit_as(warga_1, json!({"channel": "MOBILE"})).await;
        let b = submit_as(warga_2, json!({"channel": "WEB"})).await;
        let c = submit_as(warga_1, json!({"channel": "WEB", "anonymous": true})).await;
        cast.dispatch(&a, "DPU").await;
        cast.dispatch(&b, "DLH").await;
        for (text, visibility) in [(INTERNAL_NOTE, "INTERNAL"), (PUBLIC_NOTE, "PUBLIC")] {
            cast.dpu_officer
                .ok(
                    MUTATE_ADD_NOTE,
                    input(&a.id, json!({"text": text, "visibility": visibility})),
                )
                .await;
        }
        // The reporter's photo of case A (PUBLIC: theirs to see, and the OPD's).
        let photo = json!({"complaintId": a.id});
        let body =
            crate::attachments::upload(warga_1, photo, crate::attachments::pdf(2000), "a.pdf")
                .await;
        assert!(body.get("errors").is_none(), "{body}");
        cast.dispatch(&c, "DPU").await;
        World {
            open: HashMap::from([("DPU", 2), ("DLH", 1)]),
            reported: HashMap::from([
                ("warga-1", vec![a.id.clone(), c.id.clone()]),
                ("warga-2", vec![b.id.clone()]),
            ]),
            a,
            b,
            c,
        }
    }

    /// Waits until both projections hold every event so far.
    async fn settle(&self, cast: &Cast) {
        let last = cast.auditor.ok(HISTORY, json!({"id": self.c.id})).await["complaintHistory"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["position"]
            .clone();
        let q = "query($min: Int, $from: DateTime!, $to: DateTime!) { dashboard(from: $from, to: $to, minPosition: $min) { open } }";
        let mut vars = window();
        vars["min"] = last;
        cast.auditor.ok(q, vars).await;
        // Seals the world into the audit tree, which auditConsistency proves.
        cast.auditor
            .ok("mutation { signAuditCheckpoint { treeSize } }", json!({}))
            .await;
    }

    /// Does the query `op` succeed for `client` and show case A? Also checks that
    /// whatever a scoped caller gets holds nothing outside their scope.
    async fn probe_query(
        &self,
        op: Operation,
        role: Role,
        who: Who,
        client: &GraphqlClient,
    ) -> bool {
        let a = &self.a.id;
        let own_opd = match (role.is_opd_scoped(), who) {
            (false, _) => None,
            (true, Who::Own) => Some("DPU"),
            (true, Who::Other) => Some("DLH"),
        };
        let citizen = match (role, who) {
            (Role::Citizen, Who::Own) => Some("warga-1"),
            (Role::Citizen, Who::Other) => Some("warga-2"),
            _ => None,
        };
        let what = format!("{op:?} as {role} ({who:?})");
        match op {
            Operation::Complaint => {
                let body = client
                    .query("query($id: ID!) { complaint(id: $id) { id } }", json!({"id": a}))
                    .await;
                done(&body, &what) && body["data"]["complaint"]["id"] == json!(a)
            }
            Operation::Node => {
                let body = client
                    .query(
                        "query($id: ID!) { node(id: $id) { id ... on Complaint { status } } }",
                        json!({"id": a}),
                    )
                    .await;
                done(&body, &what) && body["data"]["node"]["id"] == json!(a)
            }
            Operation::Complaints => {
                let body = client
                    .query(
                        "{ complaints(first: 100) { totalCount edges { node { id opd } } } }",
                        json!({}),
                    )
                    .await;
                if !done(&body, &what) {
                    return false;
                }
                let list = &body["data"]["complaints"];
                let nodes: Vec<&Value> = list["edges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| &e["node"])
                    .collect();
                let ids: Vec<String> = nodes
                    .iter()
                    .map(|n| n["id"].as_str().unwrap().to_string())
                    .collect();
                assert_eq!(list["totalCount"], json!(ids.len()), "{what}: totalCount");
                if let Some(opd) = own_opd {
                    assert!(nodes.iter().all(|n| n["opd"] == json!(opd)), "{what}: {list}");
                    assert_eq!(ids.len() as i64, self.open[opd], "{what}: {list}");
                }
                if let Some(citizen) = citizen {
                    assert_eq!(ids.len(), self.reported[citizen].len(), "{what}: {list}");
                    assert!(ids.iter().all(|id| self.reported[citizen].contains(id)), "{what}");
                }
                ids.contains(a)
            }
            Operation::ComplaintHistory => {
                let body = client
                    .query("query($id: ID!) { complaintHistory(id: $id) { type } }", json!({"id": a}))
                    .await;
                done(&body, &what) && !body["data"]["complaintHistory"].as_array().unwrap().is_empty()
            }
            Operation::SlaTimers => {
                let body = client
                    .query("{ slaTimers(first: 200) { complaintId opd } }", json!({}))
                    .await;
                if !done(&body, &what) {
                    return false;
                }
                let timers = body["data"]["slaTimers"].as_array().unwrap();
                if let Some(opd) = own_opd {
                    assert!(timers.iter().all(|t| t["opd"] == json!(opd)), "{what}: {body}");
                }
                timers.iter().any(|t| t["complaintId"] == json!(a))
            }
            Operation::Dashboard => {
                let q = "query($opd: String, $from: DateTime!, $to: DateTime!) { dashboard(opd: $opd, from: $from, to: $to) { open } }";
                if let Some(opd) = own_opd {
                    // Without naming an OPD, a scoped caller gets their own figures.
                    let body = client.ok(q, window()).await;
                    assert_eq!(body["dashboard"]["open"], json!(self.open[opd]), "{what}");
                }
                let mut vars = window();
                vars["opd"] = json!("DPU");
                let body = client.query(q, vars).await;
                if !done(&body, &what) {
                    return false;
                }
                assert_eq!(body["data"]["dashboard"]["open"], json!(self.open["DPU"]), "{what}");
                true
            }
            Operation::Ikm => {
                let q = "query($opd: String, $from: DateTime!, $to: DateTime!) { ikm(opd: $opd, from: $from, to: $to, groupBy: OPD) { opd total { respondents } groups { key } } }";
                if let Some(opd) = own_opd {
                    // Without naming an OPD, a scoped caller gets their own figures.
                    let body = client.ok(q, window()).await;
                    assert_eq!(body["ikm"]["opd"], json!(opd), "{what}");
                }
                let mut vars = window();
                vars["opd"] = json!("DPU");
                let body = client.query(q, vars).await;
                if !done(&body, &what) {
                    return false;
                }
                assert_eq!(body["data"]["ikm"]["opd"], json!("DPU"), "{what}");
                true
            }
            Operation::Handoffs => {
                let q = "query($opd: String, $from: DateTime!, $to: DateTime!) { handoffs(opd: $opd, from: $from, to: $to) { opd pairs { fromHolder } } }";
                if let Some(opd) = own_opd.filter(|_| access(role, op) != Access::Refused) {
                    // Without naming an OPD, a scoped caller gets their own pairs.
                    let body = client.ok(q, window()).await;
                    assert_eq!(body["handoffs"]["opd"], json!(opd), "{what}");
                }
                let mut vars = window();
                vars["opd"] = json!("DPU");
                let body = client.query(q, vars).await;
                if !done(&body, &what) {
                    return false;
                }
                assert_eq!(body["data"]["handoffs"]["opd"], json!("DPU"), "{what}");
                true
            }
            Operation::CityStats => {
                let q = "query($from: DateTime!, $to: DateTime!) { cityStats(from: $from, to: $to, groupBy: CHANNEL) { key submitted } }";
                let body = client.query(q, window()).await;
                if !done(&body, &what) {
                    return false;
                }
                let rows = body["data"]["cityStats"].as_array().unwrap();
                let total: i64 = rows.iter().map(|r| r["submitted"].as_i64().unwrap()).sum();
                if let Some(opd) = own_opd {
                    assert_eq!(total, self.open[opd], "{what}: {body}");
                }
                // Only case A came by MOBILE.
                rows.iter().any(|r| r["key"] == json!("MOBILE"))
            }
            Operation::Hotspots => {
                let q = "query($opd: String, $from: DateTime!, $to: DateTime!) { hotspots(opd: $opd, from: $from, to: $to, resolution: 5) { count openCount } }";
                let open = |body: &Value| -> i64 {
                    body["hotspots"].as_array().unwrap().iter().map(|h| h["openCount"].as_i64().unwrap()).sum()
                };
                if let Some(opd) = own_opd.filter(|_| access(role, op) != Access::Refused) {
                    // Without naming an OPD, a scoped caller gets their own cases.
                    let body = client.ok(q, window()).await;
                    assert_eq!(open(&body), self.open[opd], "{what}: {body}");
                }
                let mut vars = window();
                vars["opd"] = json!("DPU");
                let body = client.query(q, vars).await;
                if !done(&body, &what) {
                    return false;
                }
                assert_eq!(open(&body["data"]), self.open["DPU"], "{what}: {body}");
                true
            }
            Operation::NearbyComplaints => {
                let q = "query($lat: Float!, $lon: Float!) { nearbyComplaints(latitude: $lat, \
                         longitude: $lon, category: \"ROAD_DAMAGE\", radiusMeters: 100, first: 50) \
                         { id opd distanceMeters } }";
                let body = client.query(q, json!({"lat": -5.1551, "lon": 119.4239})).await;
                if !done(&body, &what) {
                    return false;
                }
                let found = body["data"]["nearbyComplaints"].as_array().unwrap();
                if let Some(opd) = own_opd {
                    assert!(found.iter().all(|c| c["opd"] == json!(opd)), "{what}: {body}");
                }
                found.iter().any(|c| c["id"] == json!(a))
            }
            Operation::PublicNearbyComplaints => {
                let q = "{ publicNearbyComplaints(latitude: -5.1551, longitude: 119.4239, \
                         category: \"ROAD_DAMAGE\") { id status distanceMeters } }";
                let body = client.query(q, json!({})).await;
                done(&body, &what)
                    && !body["data"]["publicNearbyComplaints"].as_array().unwrap().is_empty()
            }
            Operation::PossibleDuplicates => {
                // Case C is at A's place, of A's category, with A's OPD.
                let q = "query($id: ID!) { complaint(id: $id) { possibleDuplicates { id } } }";
                let body = client.query(q, json!({"id": a})).await;
                done(&body, &what)
                    && body["data"]["complaint"]["possibleDuplicates"]
                        .as_array()
                        .is_some_and(|found| found.iter().any(|c| c["id"] == json!(self.c.id)))
            }
            Operation::Projections => {
                done(&client.query("{ projections { name } }", json!({})).await, &what)
            }
            Operation::NationalSync => done(
                &client.query("{ nationalSync { trackingId reason } }", json!({})).await,
                &what,
            ),
            Operation::Me => done(&client.query("{ me { role } }", json!({})).await, &what),
            Operation::Webhooks => done(
                &client.query("{ webhookEndpoints { id } }", json!({})).await,
                &what,
            ),
            Operation::Open311Clients => done(
                &client.query("{ open311Clients { id name } }", json!({})).await,
                &what,
            ),
            Operation::NotificationOutbox => done(
                &client
                    .query("{ notificationOutbox(first: 10) { complaintId status } }", json!({}))
                    .await,
                &what,
            ),
            Operation::AuditProofs => done(
                &client
                    .query(
                        "query($id: ID!) { auditCheckpoints { treeSize } \
                         auditProof(complaintId: $id) { complaintId } }",
                        json!({"id": a}),
                    )
                    .await,
                &what,
            ),
            // From the first leaf to itself (`settle` sealed the world).
            Operation::AuditConsistency => done(
                &client
                    .query(
                        "{ auditConsistency(from: 1, to: 1) { toSize proof } }",
                        json!({}),
                    )
                    .await,
                &what,
            ),
            Operation::ReferenceData => done(
                &client
                    .query(
                        "{ opds { code } categories { code } kecamatan { code } slaPolicies { version } businessCalendar { timezone } }",
                        json!({}),
                    )
                    .await,
                &what,
            ),
            Operation::TrackedComplaint => {
                let code = match who {
                    Who::Own => self.a.code.clone(),
                    Who::Other => forged(&self.a.code),
                };
                let body = client
                    .query(
                        "query($code: String!) { trackedComplaint(trackingCode: $code) { id status } }",
                        json!({"code": code}),
                    )
                    .await;
                done(&body, &what) && body["data"]["trackedComplaint"]["id"] == json!(a)
            }
            Operation::ReporterContact => {
                let shown = self.personal_data(client, &self.a.id, &what).await.0;
                if access(role, op) == Access::OwnOpdNamed && who == Who::Own {
                    // The same OPD does not see who made an anonymous report.
                    assert!(!self.personal_data(client, &self.c.id, &what).await.0, "{what}");
                }
                shown
            }
            Operation::ExactAddress => self.personal_data(client, &self.a.id, &what).await.1,
            Operation::InternalNotes => self.internal_notes(client, &what).await,
            Operation::Attachments => self.attachments(role, who, client, &what).await,
            Operation::SlaWhatIf => {
                // Case A was submitted today (the city's date): it is replayed.
                let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
                let q = "query($input: SlaWhatIfInput!) { slaWhatIf(input: $input) { total { actual { cases } } } }";
                let input = json!({"input": {"policy": crate::whatif::STRICTER, "from": today.pred_opt(), "to": today}});
                let body = client.query(q, input).await;
                done(&body, &what) && body["data"]["slaWhatIf"]["total"]["actual"]["cases"].as_i64() > Some(0)
            }
            _ => unreachable!("{op:?} is not a query or field group"),
        }
    }

    /// Whether case A's attachment is shown to `client`: in the case, or to
    /// the public in the tracking-code view (with A's code, or a forged one).
    async fn attachments(&self, role: Role, who: Who, client: &GraphqlClient, what: &str) -> bool {
        let (body, path) = if role == Role::Public {
            let code = match who {
                Who::Own => self.a.code.clone(),
                Who::Other => forged(&self.a.code),
            };
            let q = "query($code: String!) { trackedComplaint(trackingCode: $code) { attachments { id } } }";
            (
                client.query(q, json!({"code": code})).await,
                "/data/trackedComplaint/attachments",
            )
        } else {
            let q = "query($id: ID!) { complaint(id: $id) { attachments { id } } }";
            (
                client.query(q, json!({"id": self.a.id})).await,
                "/data/complaint/attachments",
            )
        };
        done(&body, what)
            && body
                .pointer(path)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
    }

    /// Whether the reporter's contact and the exact address of case `id` are
    /// shown to `client`, in the complaint and in its history alike.
    async fn personal_data(&self, client: &GraphqlClient, id: &str, what: &str) -> (bool, bool) {
        let body = client
            .query(
                "query($id: ID!) { complaint(id: $id) { reporter { name phone email } location { address } } }",
                json!({"id": id}),
            )
            .await;
        if !done(&body, what) {
            return (false, false);
        }
        let complaint = &body["data"]["complaint"];
        let reporter = !complaint["reporter"].is_null();
        let address = !complaint["location"]["address"].is_null();
        let history = client
            .query(
                "query($id: ID!) { complaintHistory(id: $id) { payload } }",
                json!({"id": id}),
            )
            .await;
        if done(&history, what) {
            let submitted = &history["data"]["complaintHistory"][0]["payload"];
            let redacted = json!("[redacted]");
            assert_eq!(
                submitted["reporter"] != redacted,
                reporter,
                "{what}: history reporter"
            );
            assert_eq!(
                submitted["location"]["address"] != redacted,
                address,
                "{what}: history address"
            );
        }
        (reporter, address)
    }
}

const INTERNAL_NOTE: &str = "Catatan internal: pelapor sulit dihubungi.";
const PUBLIC_NOTE: &str = "Tim dijadwalkan ke lokasi.";

impl World {
    /// Whether case A's INTERNAL note is shown to `client`, in the complaint's
    /// `notes` and in its history alike; whoever reads the case gets the PUBLIC
    /// one, and a reader who may not see the INTERNAL one gets it nowhere.
    async fn internal_notes(&self, client: &GraphqlClient, what: &str) -> bool {
        let body = client
            .query(
                "query($id: ID!) { complaint(id: $id) { notes { text visibility } } }",
                json!({"id": self.a.id}),
            )
            .await;
        if !done(&body, what) {
            return false;
        }
        let texts: Vec<&str> = body["data"]["complaint"]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["text"].as_str().unwrap())
            .collect();
        assert!(texts.contains(&PUBLIC_NOTE), "{what}: {body}");
        let shown = texts.contains(&INTERNAL_NOTE);
        let history = client
            .query(
                "query($id: ID!) { complaintHistory(id: $id) { type payload } }",
                json!({"id": self.a.id}),
            )
            .await;
        if done(&history, what) {
            let in_history = history.to_string().contains(INTERNAL_NOTE);
            assert_eq!(in_history, shown, "{what}: history {history}");
        }
        shown
    }
}

/// What a cell expects of the (own, other) probes.
fn expected(cell: Access) -> (bool, bool) {
    match cell {
        Access::Allowed => (true, true),
        Access::OwnOpd | Access::OwnOpdNamed | Access::OwnCases => (true, false),
        Access::Refused => (false, false),
    }
}

async fn probe_mutation(cast: &Cast, op: Operation, role: Role, who: Who) -> bool {
    let case = cast.prepared(op, role).await;
    let before = cast.version(&case.id).await;
    let client = cast.get(role, who);
    let body = if op == Operation::AddAttachment {
        // A GraphQL multipart request; the tracking code is the case's, or forged.
        let code = match who {
            Who::Own => case.code.clone(),
            Who::Other => forged(&case.code),
        };
        let input = json!({"complaintId": case.id, "trackingCode": code});
        crate::attachments::upload(client, input, crate::attachments::pdf(1500), "f.pdf").await
    } else {
        let (document, variables) = mutation(op, role, who, &case);
        client.query(document, variables).await
    };
    let what = format!("{op:?} as {role} ({who:?})");
    let ok = done(&body, &what);
    let after = cast.version(&case.id).await;
    if op != Operation::Submit {
        assert_eq!(
            after,
            before + usize::from(ok),
            "{what}: events appended: {body}"
        );
    }
    ok
}

/// A bulk note on one DPU case: done when the request and its one item
/// are; a refused item (another OPD's case) must be FORBIDDEN and append
/// nothing, as the single `addNote` would.
async fn probe_bulk(cast: &Cast, role: Role, who: Who) -> bool {
    let case = cast.prepared(Operation::AddNote, role).await;
    let before = cast.version(&case.id).await;
    let input = json!({"input": {
        "requestId": format!("access-{role}-{who:?}"),
        "action": "ADD_NOTE",
        "complaintIds": [case.id],
        "addNote": {"text": "Dicatat bersama.", "visibility": "INTERNAL"},
    }});
    let body = cast
        .get(role, who)
        .query(
            "mutation($input: BulkInput!) { bulkAct(input: $input) { items { ok code } } }",
            input,
        )
        .await;
    let what = format!("BulkAct as {role} ({who:?})");
    let item = &body["data"]["bulkAct"]["items"][0];
    let ok = done(&body, &what) && item["ok"] == true;
    if body.get("errors").is_none() && !ok {
        assert_eq!(item["code"], "FORBIDDEN", "{what}: {body}");
    }
    let after = cast.version(&case.id).await;
    assert_eq!(
        after,
        before + usize::from(ok),
        "{what}: events appended: {body}"
    );
    ok
}

/// Registers an endpoint (nothing listens there; it only has to be stored)
/// and, when that is allowed, removes it again.
async fn probe_webhooks(client: &GraphqlClient, role: Role, who: Who) -> bool {
    let what = format!("ManageWebhooks as {role} ({who:?})");
    let body = client
        .query(
            "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { endpoint { id } secret } }",
            json!({"input": {"url": "http://127.0.0.1:9/aduan", "eventTypes": ["Closed"]}}),
        )
        .await;
    if !done(&body, &what) {
        return false;
    }
    let id = &body["data"]["registerWebhook"]["endpoint"]["id"];
    let removed = client
        .query(
            "mutation($id: ID!) { removeWebhook(id: $id) }",
            json!({"id": id}),
        )
        .await;
    done(&removed, &what)
}

/// Managing: creates a DPU template. Reading: lists the templates and looks
/// for a DPU template the supervisor made (a DLH role sees the city-wide
/// ones, never DPU's).
async fn probe_templates(cast: &Cast, op: Operation, role: Role, who: Who) -> bool {
    let what = format!("{op:?} as {role} ({who:?})");
    let create = "mutation($input: CreateResponseTemplateInput!) { createResponseTemplate(input: $input) { id } }";
    let fields = json!({"input": {"name": "Probe", "opd": "DPU", "text": "Ditangani {opd}."}});
    if op == Operation::ManageResponseTemplates {
        return done(&cast.get(role, who).query(create, fields).await, &what);
    }
    let supervisor = cast.get(Role::Supervisor, Who::Own);
    let made = supervisor.ok(create, fields).await;
    let id = &made["createResponseTemplate"]["id"];
    let body = cast
        .get(role, who)
        .query("{ responseTemplates { id opd } }", json!({}))
        .await;
    done(&body, &what)
        && body["data"]["responseTemplates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == *id)
}

/// Issues an Open311 key and, when that is allowed, revokes it again.
async fn probe_open311(client: &GraphqlClient, role: Role, who: Who) -> bool {
    let what = format!("ManageOpen311Clients as {role} ({who:?})");
    let body = client
        .query(
            "mutation { issueOpen311Key(name: \"probe\") { client { id } apiKey } }",
            json!({}),
        )
        .await;
    if !done(&body, &what) {
        return false;
    }
    let id = &body["data"]["issueOpen311Key"]["client"]["id"];
    let revoked = client
        .query(
            "mutation($id: ID!) { revokeOpen311Key(id: $id) { revokedAt } }",
            json!({"id": id}),
        )
        .await;
    done(&revoked, &what)
}

/// Erases the reporter of a fresh case (taken by phone, so the case's own
/// reference names them): one event on the case when allowed, none otherwise.
async fn probe_erasure(cast: &Cast, role: Role, who: Who) -> bool {
    let what = format!("EraseReporterData as {role} ({who:?})");
    let data = cast
        .agent
        .ok(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id reporterRef } }",
            json!({"input": report()}),
        )
        .await;
    let id = data["submitComplaint"]["id"].as_str().unwrap().to_string();
    let reference = data["submitComplaint"]["reporterRef"].clone();
    let before = cast.version(&id).await;
    let body = cast
        .get(role, who)
        .query(
            "mutation($input: EraseReporterDataInput!) { eraseReporterData(input: $input) { erasedNow } }",
            json!({"input": {"reporterRef": reference, "reason": "Permintaan warga"}}),
        )
        .await;
    let ok = done(&body, &what);
    assert_eq!(
        cast.version(&id).await,
        before + usize::from(ok),
        "{what}: events appended: {body}"
    );
    ok
}

async fn every_cell_of_the_access_policy_holds(backend: Backend) {
    // Clocks turn AT_RISK at 1 % of their target, and a FIRE case's follow-up
    // target is a minute: its clock turns 0.6 s after dispatch, so `slaAlerts`
    // is probed with real alerts (the default targets are days: no other
    // clock turns while the test runs).
    let sla = crate::subscriptions::access::fast_turning_sla();
    let env = Env::start_with(backend, &[("ADUAN_SLA_CONFIG", sla.to_str().unwrap())]).await;
    let cast = Cast::new(&env).await;
    let world = World::build(&cast).await;
    world.settle(&cast).await;
    let mut wrong = Vec::new();
    let mut cells = 0;
    let mut subscriptions = None;
    for op in Operation::ALL {
        for role in ROLES {
            let cell = access(role, op);
            let mut seen = [false; 2];
            for (i, who) in [Who::Own, Who::Other].into_iter().enumerate() {
                seen[i] = match access_table::kind(op) {
                    _ if op == Operation::ManageWebhooks => {
                        probe_webhooks(cast.get(role, who), role, who).await
                    }
                    _ if op == Operation::ManageOpen311Clients => {
                        probe_open311(cast.get(role, who), role, who).await
                    }
                    _ if op == Operation::ResponseTemplates
                        || op == Operation::ManageResponseTemplates =>
                    {
                        probe_templates(&cast, op, role, who).await
                    }
                    _ if op == Operation::EraseReporterData => {
                        probe_erasure(&cast, role, who).await
                    }
                    _ if op == Operation::BulkAct => probe_bulk(&cast, role, who).await,
                    _ if op == Operation::RotateServerKeys => {
                        // Links already handed out stay valid (the default
                        // overlap is their lifetime): the other probes go on.
                        let body = cast
                            .get(role, who)
                            .query(
                                "mutation { rotateServerKey(input: {key: ATTACHMENT_LINKS}) { keys { keyId } } }",
                                json!({}),
                            )
                            .await;
                        done(&body, &format!("{op:?} as {role} ({who:?})"))
                    }
                    _ if op == Operation::SignAuditCheckpoint => {
                        let body = cast
                            .get(role, who)
                            .query("mutation { signAuditCheckpoint { treeSize } }", json!({}))
                            .await;
                        done(&body, &format!("{op:?} as {role} ({who:?})"))
                    }
                    Kind::Mutation => probe_mutation(&cast, op, role, who).await,
                    Kind::Subscription => {
                        if subscriptions.is_none() {
                            subscriptions = Some(Subscriptions::build(&env, &cast, &world).await);
                        }
                        let probes = subscriptions.as_mut().unwrap();
                        probes.probe(&env, &cast, op, role, who).await
                    }
                    Kind::Query | Kind::FieldGroup => {
                        world.probe_query(op, role, who, cast.get(role, who)).await
                    }
                };
            }
            cells += 1;
            if (seen[0], seen[1]) != expected(cell) {
                wrong.push(format!(
                    "{} × {role}: table says {}, own {} other {}",
                    access_table::name(op),
                    access_table::label(cell),
                    seen[0],
                    seen[1]
                ));
            }
        }
    }
    println!("access policy: {cells} cells walked on {backend:?}");
    assert_eq!(cells, Operation::ALL.len() * ROLES.len());
    assert!(
        wrong.is_empty(),
        "cells that do not hold:\n{}",
        wrong.join("\n")
    );
    env.finish().await;
    let _ = std::fs::remove_file(sla);
}
