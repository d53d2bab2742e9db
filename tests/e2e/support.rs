use serde_json::{json, Value};

use aduan_testkit::{GraphqlClient, TestDatabase, TestServer};

pub const BIN: &str = env!("CARGO_BIN_EXE_aduan");

/// A server on its own database, and clients for the usual cast.
pub struct Env {
    pub db: TestDatabase,
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
    pub async fn start() -> Env {
        Self::start_with(&[]).await
    }

    pub async fn start_with(env: &[(&str, &str)]) -> Env {
        let db = TestDatabase::create().await;
        let server = TestServer::start(BIN, &db.url, env).await;
        let client = |token: String| server.client(&token);
        Env {
            citizen: client(server.token("CITIZEN", None, "warga-1").await),
            agent: client(server.token("AGENT", None, "agent-1").await),
            supervisor: client(server.token("SUPERVISOR", None, "spv-1").await),
            auditor: client(server.token("AUDITOR", None, "auditor-1").await),
            dpu_admin: client(server.token("OPD_ADMIN", Some("DPU"), "admin-dpu").await),
            dpu_officer: client(
                server
                    .token("OPD_OFFICER", Some("DPU"), "petugas-dpu")
                    .await,
            ),
            dlh_officer: client(
                server
                    .token("OPD_OFFICER", Some("DLH"), "petugas-dlh")
                    .await,
            ),
            db,
            server,
        }
    }

    /// Stops the server (it must exit cleanly on SIGTERM) and drops the database.
    pub async fn finish(self) {
        let status = self.server.stop().await;
        assert!(status.success(), "server exited with {status}");
        self.db.drop_db().await;
    }

    /// A client for an analyst.
    pub async fn analyst(&self) -> GraphqlClient {
        self.server
            .client(&self.server.token("ANALYST", None, "analyst-1").await)
    }

    /// A citizen's pothole report; returns its id.
    pub async fn submit(&self) -> String {
        let data = self.citizen.ok(SUBMIT, json!({"input": report()})).await;
        data["submitComplaint"]["id"].as_str().unwrap().to_string()
    }

    /// A report verified and dispatched to DPU; returns its id.
    pub async fn assigned(&self) -> String {
        let id = self.submit().await;
        self.agent
            .ok(MUTATE_VERIFY, json!({"input": {"complaintId": id}}))
            .await;
        self.agent
            .ok(
                MUTATE_ASSIGN,
                json!({"input": {"complaintId": id, "opd": "DPU"}}),
            )
            .await;
        id
    }

    pub async fn history(&self, id: &str) -> Vec<Value> {
        let data = self.auditor.ok(HISTORY, json!({"id": id})).await;
        data["complaintHistory"].as_array().unwrap().clone()
    }

    pub async fn event_types(&self, id: &str) -> Vec<String> {
        self.history(id)
            .await
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Runs an `aduan` subcommand against a database; returns its standard output.
pub async fn run_cli(args: &[&str], database_url: &str) -> String {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .await
        .expect("run aduan");
    assert!(
        out.status.success(),
        "aduan {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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
mutation!(MUTATE_ASSIGN, "assignComplaint", "AssignComplaintInput");
mutation!(
    MUTATE_TRANSFER,
    "transferComplaint",
    "TransferComplaintInput"
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

pub const COMPLAINT: &str = concat!("query($id: ID!) { complaint(id: $id) { ", fields!(), " } }");

pub const HISTORY: &str = "query($id: ID!) { complaintHistory(id: $id) { sequence position type eventVersion occurredAt recordedAt actor role actorOpd channel correlationId commandId payload } }";
