//! The command load: cases walked through a lifecycle at a fixed rate by the
//! roles that do it in the city, and the bench's own record of every event it
//! caused (its type, the case's OPD after it, whether it is an INTERNAL note),
//! from which the notices each subscriber must receive are derived.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::task::JoinSet;

use aduan_testkit::{GraphqlClient, TestServer};

/// The OPDs cases go to; `CATEGORIES[i]`'s default OPD is `OPDS[i]`.
pub const OPDS: [&str; 5] = ["DPU", "DLH", "DISHUB", "DINKES", "PDAM"];
pub const CATEGORIES: [&str; 5] = [
    "ROAD_DAMAGE",
    "GARBAGE",
    "TRAFFIC_LIGHT",
    "HEALTH_SERVICE",
    "WATER_SUPPLY",
];
pub const KECAMATAN: [&str; 8] = [
    "MARISO",
    "MAMAJANG",
    "TAMALATE",
    "RAPPOCINI",
    "MAKASSAR",
    "WAJO",
    "TALLO",
    "PANAKKUKANG",
];

/// What the bench knows of one event it caused.
#[derive(Debug, Clone)]
pub struct Fact {
    pub complaint: String,
    pub event_type: &'static str,
    pub category: usize,
    pub kecamatan: usize,
    /// Index into `OPDS` of the OPD the case is with after the event.
    pub opd: Option<usize>,
    pub internal: bool,
}

/// When the command that appended the event at `position` went out and when
/// its HTTP response came back (client clock).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub sent: Instant,
    pub answered: Instant,
}

struct Case {
    id: String,
    category: usize,
    kecamatan: usize,
    opd: Option<usize>,
    /// The next step of `LIFECYCLE` (0: not submitted yet).
    step: usize,
    /// Whether step 5 transfers the case to the next OPD (else a PUBLIC note).
    transfers: bool,
}

/// After submission: verify, dispatch, respond, INTERNAL note, transfer (or a
/// PUBLIC note), respond, PUBLIC note, close.
const STEPS: usize = 9;

#[derive(Default)]
struct State {
    cases: Vec<Case>,
    /// Cases waiting for their next command (one command per case at a time,
    /// so the bench knows each case's OPD after each of its events).
    ready: VecDeque<usize>,
    facts: HashMap<i64, Fact>,
    timings: HashMap<i64, Timing>,
}

pub struct Driver {
    agent: GraphqlClient,
    officers: Vec<GraphqlClient>,
    state: Mutex<State>,
}

/// What a load run did.
pub struct Load {
    pub commands: usize,
    pub seconds: f64,
    /// Sorted HTTP round trips of its commands, ms.
    pub http_ms: Vec<f64>,
}

impl Driver {
    pub async fn new(server: &TestServer) -> Arc<Driver> {
        let agent = server.client(&server.token("AGENT", None, "bench-agent").await);
        let mut officers = Vec::new();
        for opd in OPDS {
            let sub = format!("bench-officer-{opd}");
            officers.push(server.client(&server.token("OPD_OFFICER", Some(opd), &sub).await));
        }
        Arc::new(Driver {
            agent,
            officers,
            state: Mutex::new(State::default()),
        })
    }

    /// Submits `n` cases and walks each up to its dispatch (assigned to its
    /// category's OPD); they are then the first the load continues. Returns
    /// their ids.
    pub async fn prepare(self: &Arc<Self>, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..n {
            let case = self.submit().await;
            for _ in 0..2 {
                self.advance(case).await;
            }
            ids.push(self.state.lock().unwrap().cases[case].id.clone());
        }
        // The prepared cases first, then those already waiting.
        let mut state = self.state.lock().unwrap();
        let first = state.cases.len() - n;
        let waiting: VecDeque<usize> = (first..state.cases.len())
            .chain(state.ready.iter().copied().filter(|c| *c < first))
            .collect();
        state.ready = waiting;
        ids
    }

    /// Sends `rate` commands a second for `seconds`, open loop: a command goes
    /// out on its tick whether or not earlier ones have been answered. Every
    /// ninth is a submission, the others the next step of the longest-waiting
    /// case.
    pub async fn run(self: &Arc<Self>, rate: f64, seconds: u64) -> Load {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        let mut tasks = JoinSet::new();
        let started = Instant::now();
        let until = started + Duration::from_secs(seconds);
        let mut n = 0u64;
        while Instant::now() < until {
            tick.tick().await;
            let next = if n.is_multiple_of(STEPS as u64) {
                None
            } else {
                self.state.lock().unwrap().ready.pop_front()
            };
            let me = self.clone();
            tasks.spawn(async move {
                match next {
                    Some(case) => me.advance(case).await,
                    None => {
                        me.submit().await;
                    }
                }
            });
            n += 1;
            while let Some(done) = tasks.try_join_next() {
                done.expect("a command failed");
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("a command failed");
        }
        let seconds = started.elapsed().as_secs_f64();
        let mut http: Vec<f64> = (self.state.lock().unwrap().timings.values())
            .filter(|t| t.sent >= started)
            .map(|t| (t.answered - t.sent).as_secs_f64() * 1000.0)
            .collect();
        http.sort_by(f64::total_cmp);
        Load {
            commands: http.len(),
            seconds,
            http_ms: http,
        }
    }

    pub fn facts(&self) -> HashMap<i64, Fact> {
        self.state.lock().unwrap().facts.clone()
    }

    pub fn timings(&self) -> HashMap<i64, Timing> {
        self.state.lock().unwrap().timings.clone()
    }

    /// Sends one command and records its event; returns the event's position.
    async fn send(
        &self,
        client: &GraphqlClient,
        query: &str,
        variables: Value,
        fact: impl FnOnce(&Value) -> Fact,
    ) -> i64 {
        let sent = Instant::now();
        let data = client.ok(query, variables).await;
        let answered = Instant::now();
        let result = data
            .as_object()
            .and_then(|o| o.values().next())
            .expect("a mutation result");
        let position = result["position"].as_i64().expect("position");
        let fact = fact(result);
        let mut state = self.state.lock().unwrap();
        state.timings.insert(position, Timing { sent, answered });
        assert!(
            state.facts.insert(position, fact).is_none(),
            "two commands answered with position {position}"
        );
        position
    }

    /// A new case (category, kecamatan and fate varying with its number), put
    /// in line for its next command; returns its index.
    async fn submit(&self) -> usize {
        // 5 categories and 8 kecamatan, coprime: every pair comes up.
        let n = self.state.lock().unwrap().cases.len() as u64;
        let (category, kecamatan) = ((n % 5) as usize, ((n * 3) % 8) as usize);
        let variables = json!({"input": {
            "channel": "CALL_CENTER", "category": CATEGORIES[category],
            "title": "Laporan warga", "description": "Dilaporkan lewat call center 112",
            "location": {"latitude": -5.15, "longitude": 119.42, "kecamatan": KECAMATAN[kecamatan]}
        }});
        let mut id = String::new();
        self.send(&self.agent, SUBMIT, variables, |result| {
            id = result["id"].as_str().expect("id").to_string();
            Fact {
                complaint: id.clone(),
                event_type: "Submitted",
                category,
                kecamatan,
                opd: None,
                internal: false,
            }
        })
        .await;
        let mut state = self.state.lock().unwrap();
        state.cases.push(Case {
            id,
            category,
            kecamatan,
            opd: None,
            step: 1,
            transfers: n.is_multiple_of(2),
        });
        let case = state.cases.len() - 1;
        state.ready.push_back(case);
        case
    }

    /// Sends the case's next command, then puts it back in line unless closed.
    async fn advance(&self, case: usize) {
        let (id, category, kecamatan, opd, step, transfers) = {
            let state = self.state.lock().unwrap();
            let c = &state.cases[case];
            (
                c.id.clone(),
                c.category,
                c.kecamatan,
                c.opd,
                c.step,
                c.transfers,
            )
        };
        let officer = || &self.officers[opd.expect("dispatched")];
        let on = |fields: Value| {
            let mut input = fields;
            input["complaintId"] = json!(id);
            json!({"input": input})
        };
        let note = |visibility: &str| {
            on(json!({"text": format!("Catatan {step}"), "visibility": visibility}))
        };
        let (client, query, variables, event_type, opd_after, internal) = match step {
            1 => (&self.agent, VERIFY, on(json!({})), "Verified", opd, false),
            2 => (
                &self.agent,
                ASSIGN,
                on(json!({"opd": OPDS[category]})),
                "Assigned",
                Some(category),
                false,
            ),
            3 | 6 => (
                officer(),
                RESPOND,
                on(json!({"message": "Sedang ditangani"})),
                "Responded",
                opd,
                false,
            ),
            4 => (officer(), NOTE, note("INTERNAL"), "NoteAdded", opd, true),
            5 if transfers => {
                let to = (opd.expect("dispatched") + 1) % OPDS.len();
                (
                    &self.agent,
                    TRANSFER,
                    on(
                        json!({"toOpd": OPDS[to], "reasonCode": "BUKAN_WEWENANG", "note": "Bukan kewenangan"}),
                    ),
                    "Transferred",
                    Some(to),
                    false,
                )
            }
            5 => (&self.agent, NOTE, note("PUBLIC"), "NoteAdded", opd, false),
            7 => (officer(), NOTE, note("PUBLIC"), "NoteAdded", opd, false),
            8 => (
                officer(),
                CLOSE,
                on(json!({"resolution": "RESOLVED", "summary": "Sudah diperbaiki"})),
                "Closed",
                opd,
                false,
            ),
            other => unreachable!("no step {other}"),
        };
        self.send(client, query, variables, |_| Fact {
            complaint: id.clone(),
            event_type,
            category,
            kecamatan,
            opd: opd_after,
            internal,
        })
        .await;
        let mut state = self.state.lock().unwrap();
        let c = &mut state.cases[case];
        c.opd = opd_after;
        c.step += 1;
        if c.step < STEPS {
            state.ready.push_back(case);
        }
    }
}

const SUBMIT: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id position } }";
const VERIFY: &str =
    "mutation($input: VerifyComplaintInput!) { verifyComplaint(input: $input) { position } }";
const ASSIGN: &str =
    "mutation($input: AssignComplaintInput!) { assignComplaint(input: $input) { position } }";
const TRANSFER: &str =
    "mutation($input: TransferComplaintInput!) { transferComplaint(input: $input) { position } }";
const RESPOND: &str =
    "mutation($input: RespondToComplaintInput!) { respondToComplaint(input: $input) { position } }";
const NOTE: &str = "mutation($input: AddNoteInput!) { addNote(input: $input) { position } }";
const CLOSE: &str =
    "mutation($input: CloseComplaintInput!) { closeComplaint(input: $input) { position } }";
