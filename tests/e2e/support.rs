//! Shared helpers: a server on a fresh database with clients for the usual cast,
//! the GraphQL documents, and checks several modules make.

use futures::future::join_all;
use serde_json::{json, Value};

pub use aduan_testkit::{on_both_stores, Backend};
use aduan_testkit::{GraphqlClient, TestServer, TestStore};

pub const BIN: &str = env!("CARGO_BIN_EXE_aduan");

/// Every OPD of the shipped reference data.
pub const OPDS: [&str; 12] = [
    "DPU",
    "DLH",
    "DISHUB",
    "DINKES",
    "PDAM",
    "DISDUKCAPIL",
    "SATPOLPP",
    "DAMKAR",
    "DINSOS",
    "DISDIK",
    "BPBD",
    "DISKOMINFO",
];

/// How a server is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: a graceful shutdown (in-flight requests finish).
    Term,
    /// SIGKILL: the process dies where it stands.
    Kill,
}

/// A server on its own database (PostgreSQL or SQLite), and clients for the
/// usual cast.
pub struct Env {
    pub store: TestStore,
    pub server: TestServer,
    pub citizen: GraphqlClient,
    pub agent: GraphqlClient,
    pub supervisor: GraphqlClient,
    pub auditor: GraphqlClient,
    pub dpu_admin: GraphqlClient,
    pub dpu_officer: GraphqlClient,
    pub dlh_officer: GraphqlClient,
}

impl Env {
    pub async fn start(backend: Backend) -> Env {
        Self::start_with(backend, &[]).await
    }

    pub async fn start_with(backend: Backend, env: &[(&str, &str)]) -> Env {
        Self::start_on(TestStore::create(backend).await, env).await
    }

    /// A server on a store made by the caller (for example on a private cluster).
    pub async fn start_on(store: TestStore, env: &[(&str, &str)]) -> Env {
        let server = TestServer::start(BIN, &store.url, env).await;
        Env {
            citizen: signed_in(&server, "CITIZEN", None, "warga-1").await,
            agent: signed_in(&server, "AGENT", None, "agent-1").await,
            supervisor: signed_in(&server, "SUPERVISOR", None, "spv-1").await,
            auditor: signed_in(&server, "AUDITOR", None, "auditor-1").await,
            dpu_admin: signed_in(&server, "OPD_ADMIN", Some("DPU"), "admin-dpu").await,
            dpu_officer: signed_in(&server, "OPD_OFFICER", Some("DPU"), "petugas-dpu").await,
            dlh_officer: signed_in(&server, "OPD_OFFICER", Some("DLH"), "petugas-dlh").await,
            store,
            server,
        }
    }

    /// Stops the server (it must exit cleanly on SIGTERM) and drops the database.
    pub async fn finish(self) {
        stop_cleanly(self.server).await;
        self.store.drop_store().await;
    }

    /// Stops the server (cleanly) and then starts a new one on the same database;
    /// the clients keep their tokens (signed with the shared test secret).
    pub async fn restart(self) -> Env {
        self.restart_after(Stop::Term).await
    }

    /// Stops the server as `how` says and starts a new one on the same database.
    pub async fn restart_after(self, how: Stop) -> Env {
        let Env {
            store,
            server,
            citizen,
            agent,
            supervisor,
            auditor,
            dpu_admin,
            dpu_officer,
            dlh_officer,
        } = self;
        match how {
            Stop::Term => stop_cleanly(server).await,
            Stop::Kill => server.kill().await,
        }
        let server = TestServer::start(BIN, &store.url, &[]).await;
        let again = |client: GraphqlClient| server.client(&client.token);
        Env {
            citizen: again(citizen),
            agent: again(agent),
            supervisor: again(supervisor),
            auditor: again(auditor),
            dpu_admin: again(dpu_admin),
            dpu_officer: again(dpu_officer),
            dlh_officer: again(dlh_officer),
            store,
            server,
        }
    }

    /// A client for someone outside the usual cast.
    pub async fn client(&self, role: &str, opd: Option<&str>, sub: &str) -> GraphqlClient {
        signed_in(&self.server, role, opd, sub).await
    }

    /// A client for an analyst.
    pub async fn analyst(&self) -> GraphqlClient {
        self.client("ANALYST", None, "analyst-1").await
    }

    /// A citizen's pothole report; returns its id.
    pub async fn submit(&self) -> String {
        let data = self.citizen.ok(SUBMIT, json!({"input": report()})).await;
        id_of(&data)
    }

    /// A report the Command Center verified; returns its id.
    pub async fn verified(&self) -> String {
        let id = self.submit().await;
        self.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
        id
    }

    /// A report verified and dispatched to DPU; returns its id.
    pub async fn assigned(&self) -> String {
        let id = self.verified().await;
        self.agent
            .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
            .await;
        id
    }

    /// The complaint's current state, as an auditor reads it once the summary
    /// has caught up with its last event (read-your-writes with `minPosition`).
    pub async fn current(&self, id: &str) -> Value {
        let last = self.history(id).await.last().map(|e| e["position"].clone());
        let data = self
            .auditor
            .ok(COMPLAINT, json!({"id": id, "min": last}))
            .await;
        data["complaint"].clone()
    }

    pub async fn history(&self, id: &str) -> Vec<Value> {
        let data = self.auditor.ok(HISTORY, json!({"id": id})).await;
        data["complaintHistory"].as_array().unwrap().clone()
    }

    /// The case number of `id`.
    pub async fn number(&self, id: &str) -> String {
        let read = "query($id: ID!) { complaint(id: $id) { number } }";
        let data = self.auditor.ok(read, json!({"id": id})).await;
        data["complaint"]["number"].as_str().unwrap().to_string()
    }

    /// The official name of the OPD `code`, as `opds` lists it.
    pub async fn opd_name(&self, code: &str) -> String {
        let data = self.auditor.ok("{ opds { code name } }", json!({})).await;
        let opd = data["opds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["code"] == code);
        opd.unwrap()["name"].as_str().unwrap().to_string()
    }

    pub async fn event_types(&self, id: &str) -> Vec<String> {
        self.history(id)
            .await
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect()
    }

    /// Sends a request on complaint `id` that must fail with `code`, and checks the
    /// complaint's history did not grow; returns the response body.
    pub async fn refused(
        &self,
        id: &str,
        client: &GraphqlClient,
        document: &str,
        variables: Value,
        code: &str,
    ) -> Value {
        let before = self.history(id).await;
        let body = client.query(document, variables).await;
        assert_eq!(error_code(&body), Some(code), "{body}");
        assert_eq!(
            self.history(id).await,
            before,
            "a refused request changed the history: {body}"
        );
        body
    }
}

async fn signed_in(server: &TestServer, role: &str, opd: Option<&str>, sub: &str) -> GraphqlClient {
    server.client(&server.token(role, opd, sub).await)
}

/// SIGTERM; the server must exit successfully.
pub async fn stop_cleanly(server: TestServer) {
    let status = server.stop().await;
    assert!(status.success(), "server exited with {status}");
}

/// Sends one request per set of variables, all at once; the bodies in order.
pub async fn race(
    client: &GraphqlClient,
    document: &str,
    variables: impl IntoIterator<Item = Value>,
) -> Vec<Value> {
    join_all(variables.into_iter().map(|v| {
        let client = client.clone();
        let document = document.to_string();
        async move { client.query(&document, v).await }
    }))
    .await
}

/// A mutation's variables: `fields` as the input on complaint `id`.
pub fn input(id: &str, mut fields: Value) -> Value {
    fields["complaintId"] = json!(id);
    json!({"input": fields})
}

/// The first error's `extensions.code`, if the response has errors.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The complaint a mutation returned (the only field of `data`).
pub fn returned(data: &Value) -> &Value {
    let fields = data.as_object().expect("data is an object");
    assert_eq!(fields.len(), 1, "one mutation per document: {data}");
    fields.values().next().unwrap()
}

/// The id of the complaint a mutation returned.
pub fn id_of(data: &Value) -> String {
    returned(data)["id"].as_str().unwrap().to_string()
}

pub fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a timestamp"))
        .unwrap_or_else(|e| panic!("{value} is not RFC 3339: {e}"))
        .into()
}

/// Waits until every projection has applied every stored event.
pub async fn caught_up(store: &TestStore, supervisor: &GraphqlClient) {
    store.settle().await;
    // Case events: the projections pass response templates' events by.
    let total = store
        .scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Complaint'")
        .await;
    // Up to a minute: four end-to-end tests share two cores in CI, and a
    // projector stuck for good would still fail here.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        let data = supervisor
            .ok("{ projections { eventsApplied } }", json!({}))
            .await;
        if data["projections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["eventsApplied"] == total)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("projections did not reach {total} events");
}

/// Runs an `aduan` subcommand against a database; returns its standard output.
pub async fn run_cli(args: &[&str], database_url: &str) -> String {
    let (ok, stdout, stderr) = try_cli(args, database_url).await;
    assert!(ok, "aduan {args:?} failed: {stderr}");
    stdout
}

/// Runs the CLI; returns whether it succeeded, its stdout and its stderr.
pub async fn try_cli(args: &[&str], database_url: &str) -> (bool, String, String) {
    let (code, stdout, stderr) = cli_status(args, database_url).await;
    (code == Some(0), stdout, stderr)
}

/// Runs the CLI; returns its exit status, its stdout and its stderr.
pub async fn cli_status(args: &[&str], database_url: &str) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .await
        .expect("run aduan");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A citizen's pothole report in Kecamatan Makassar, sent from the mobile app.
pub fn report() -> Value {
    json!({
        "channel": "MOBILE",
        "category": "ROAD_DAMAGE",
        "title": "Jalan berlubang",
        "description": "Lubang besar di depan SD Inpres, Jl. Veteran Selatan",
        "location": {"latitude": -5.1551, "longitude": 119.4239, "kecamatan": "MAKASSAR", "kelurahan": "Maradekaya"},
        "reporter": {"name": "Andi", "phone": "+62 811 4000 123"}
    })
}

/// `report()` with some fields replaced.
pub fn report_with(changes: Value) -> Value {
    let mut report = report();
    for (key, value) in changes.as_object().expect("changes are an object") {
        report[key] = value.clone();
    }
    report
}

/// The complaint fields every test document asks for.
macro_rules! fields {
    () => {
        "id status opd officerId version position rating reopenCount escalationLevel resolution firstResponseAt reporter { name phone }"
    };
}

macro_rules! mutation {
    ($name:ident, $field:literal, $input:literal) => {
        pub const $name: &str = concat!(
            "mutation($input: ",
            $input,
            "!) { ",
            $field,
            "(input: $input) { ",
            fields!(),
            " } }"
        );
    };
}

mutation!(SUBMIT, "submitComplaint", "SubmitComplaintInput");
mutation!(MUTATE_VERIFY, "verifyComplaint", "VerifyComplaintInput");
mutation!(MUTATE_REJECT, "rejectComplaint", "RejectComplaintInput");
mutation!(
    MUTATE_CORRECT_LOCATION,
    "correctLocation",
    "CorrectLocationInput"
);
mutation!(MUTATE_ASSIGN, "assignComplaint", "AssignComplaintInput");
mutation!(MUTATE_LINK, "linkDuplicate", "LinkDuplicateInput");
mutation!(MUTATE_UNLINK, "unlinkDuplicate", "UnlinkDuplicateInput");
mutation!(
    MUTATE_TRANSFER,
    "transferComplaint",
    "TransferComplaintInput"
);
mutation!(
    MUTATE_RETURN,
    "returnToCommandCenter",
    "ReturnToCommandCenterInput"
);
mutation!(
    MUTATE_RESPOND,
    "respondToComplaint",
    "RespondToComplaintInput"
);
mutation!(MUTATE_REQUEST_INFO, "requestInfo", "RequestInfoInput");
mutation!(MUTATE_PROVIDE_INFO, "provideInfo", "ProvideInfoInput");
mutation!(
    MUTATE_FIELD,
    "recordFieldHandling",
    "RecordFieldHandlingInput"
);
mutation!(
    MUTATE_ESCALATE,
    "escalateComplaint",
    "EscalateComplaintInput"
);
mutation!(MUTATE_CLOSE, "closeComplaint", "CloseComplaintInput");
mutation!(MUTATE_REOPEN, "reopenComplaint", "ReopenComplaintInput");
mutation!(MUTATE_RATE, "rateComplaint", "RateComplaintInput");
mutation!(MUTATE_ADD_NOTE, "addNote", "AddNoteInput");
mutation!(MUTATE_ANSWER_SURVEY, "answerSurvey", "AnswerSurveyInput");
mutation!(
    MUTATE_OPT_OUT,
    "optOutOfNotifications",
    "OptOutOfNotificationsInput"
);

/// Survey answers: `scores[i]` for element U(i+1).
pub fn survey_answers(scores: [i64; 9]) -> Value {
    Value::Array(
        scores
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"element": format!("U{}", i + 1), "score": s}))
            .collect(),
    )
}

pub const COMPLAINT: &str = concat!(
    "query($id: ID!, $min: Int) { complaint(id: $id, minPosition: $min) { ",
    fields!(),
    " } }"
);

pub const HISTORY: &str = "query($id: ID!) { complaintHistory(id: $id) { sequence position type eventVersion occurredAt recordedAt actor role actorOpd channel correlationId commandId payload } }";
