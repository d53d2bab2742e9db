//! One application per test: its state, its router and its followers.

use axum::body::{to_bytes, Body};
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use clap::Parser;
use serde_json::{json, Value};
use tower::ServiceExt;

use aduan_api::cli::{Cli, Commands};
use aduan_api::followers::Running;
use aduan_api::router::router;
use aduan_api::state::AppState;
use aduan_domain::{Actor, Role};

/// The most of an answer a test reads.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

pub struct App {
    pub state: AppState,
    router: Router,
    running: Running,
    _dir: tempfile::TempDir,
}

/// An answer: its status and its body (JSON when it is JSON, else a string).
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub content_type: Option<String>,
    pub headers: axum::http::HeaderMap,
}

impl App {
    /// The state as `aduan serve` builds it (the shipped reference data and SLA
    /// settings), on a new SQLite file; the deadline watcher off.
    pub async fn start() -> App {
        App::start_on(None, &[]).await
    }

    /// As `start`, on `database` (a new SQLite file when `None`), with more of
    /// `serve`'s arguments.
    pub async fn start_on(database: Option<&str>, serve: &[&str]) -> App {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().display().to_string();
        let sqlite = format!("sqlite://{}", dir.path().join("aduan.db").display());
        let database = database.unwrap_or(&sqlite);
        let mut args = vec![
            "aduan",
            "--data-dir",
            &data,
            "--database-url",
            database,
            "serve",
            "--watch",
            "false",
        ];
        args.extend_from_slice(serve);
        let cli = Cli::try_parse_from(args).expect("serve's arguments");
        let Commands::Serve(args) = &cli.command else {
            unreachable!("parsed `serve`")
        };
        let (state, followers) = AppState::build(&cli, args).await.expect("the state");
        App {
            router: router(state.clone()),
            state,
            running: followers.spawn(),
            _dir: dir,
        }
    }

    /// Stops the followers (the directory goes with `self`).
    pub async fn finish(self) {
        self.running.stop().await;
    }

    /// A token for `sub`, signed with the state's own key.
    pub fn token(&self, role: Role, opd: Option<&str>, sub: &str) -> String {
        self.state
            .keys
            .mint(&Actor::new(sub, role, opd), chrono::Duration::hours(1))
            .expect("mint a token")
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = to_bytes(response.into_body(), MAX_ANSWER)
            .await
            .expect("the whole answer");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer {
            status,
            body,
            content_type,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        let request = Request::get(path).body(Body::empty()).expect("a request");
        self.send(request).await
    }

    /// POSTs a GraphQL request, with `token` as the bearer when there is one.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Answer {
        let body = json!({"query": query, "variables": variables}).to_string();
        self.post_graphql(token, body).await
    }

    pub async fn post_graphql(&self, token: Option<&str>, body: String) -> Answer {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, body.len());
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::from(body)).expect("a request"))
            .await
    }
}

/// Someone signed in: a token and the app it talks to.
pub struct Client<'a> {
    pub app: &'a App,
    pub token: Option<String>,
}

impl<'a> Client<'a> {
    pub fn new(app: &'a App, role: Role, opd: Option<&str>, sub: &str) -> Client<'a> {
        Client {
            app,
            token: Some(app.token(role, opd, sub)),
        }
    }

    pub fn anonymous(app: &'a App) -> Client<'a> {
        Client { app, token: None }
    }

    pub async fn query(&self, document: &str, variables: Value) -> Value {
        self.app
            .graphql(self.token.as_deref(), document, variables)
            .await
            .body
    }

    /// The data of a request that must succeed.
    pub async fn ok(&self, document: &str, variables: Value) -> Value {
        let body = self.query(document, variables).await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }

    /// The first error's code of a request that must fail.
    pub async fn error_code(&self, document: &str, variables: Value) -> String {
        let body = self.query(document, variables).await;
        error_code(&body)
            .unwrap_or_else(|| panic!("an error: {body}"))
            .to_string()
    }
}

/// The cast the tests use.
pub struct Cast<'a> {
    pub citizen: Client<'a>,
    pub agent: Client<'a>,
    pub dpu_officer: Client<'a>,
    pub dlh_officer: Client<'a>,
}

impl<'a> Cast<'a> {
    pub fn of(app: &'a App) -> Cast<'a> {
        Cast {
            citizen: Client::new(app, Role::Citizen, None, "warga-1"),
            agent: Client::new(app, Role::Agent, None, "agent-1"),
            dpu_officer: Client::new(app, Role::OpdOfficer, Some("DPU"), "petugas-dpu"),
            dlh_officer: Client::new(app, Role::OpdOfficer, Some("DLH"), "petugas-dlh"),
        }
    }

    /// A new complaint, submitted by the citizen; its id.
    pub async fn submitted(&self) -> String {
        let data = self.citizen.ok(SUBMIT, json!({"input": report()})).await;
        id_of(&data)
    }

    /// A new complaint, verified and assigned to DPU; its id.
    pub async fn assigned(&self) -> String {
        let id = self.submitted().await;
        self.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
        self.agent
            .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
            .await;
        id
    }
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

/// `report()` with some fields replaced.
pub fn report_with(changes: Value) -> Value {
    let mut report = report();
    for (key, value) in changes.as_object().expect("changes are an object") {
        report[key] = value.clone();
    }
    report
}

pub fn input(id: &str, mut fields: Value) -> Value {
    fields["complaintId"] = json!(id);
    json!({"input": fields})
}

pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The complaint a mutation returned (the only field of `data`).
pub fn returned(data: &Value) -> &Value {
    let fields = data.as_object().expect("data is an object");
    assert_eq!(fields.len(), 1, "one mutation per document: {data}");
    fields.values().next().expect("one field")
}

pub fn id_of(data: &Value) -> String {
    returned(data)["id"].as_str().expect("an id").to_string()
}

macro_rules! mutation {
    ($name:ident, $field:literal, $input:literal) => {
        pub const $name: &str = concat!(
            "mutation($input: ",
            $input,
            "!) { ",
            $field,
            "(input: $input) { id status opd version position rating resolution } }"
        );
    };
}

mutation!(SUBMIT, "submitComplaint", "SubmitComplaintInput");
mutation!(MUTATE_VERIFY, "verifyComplaint", "VerifyComplaintInput");
mutation!(MUTATE_ASSIGN, "assignComplaint", "AssignComplaintInput");
mutation!(
    MUTATE_RESPOND,
    "respondToComplaint",
    "RespondToComplaintInput"
);
mutation!(MUTATE_CLOSE, "closeComplaint", "CloseComplaintInput");
mutation!(MUTATE_RATE, "rateComplaint", "RateComplaintInput");

pub const COMPLAINT: &str = "query($id: ID!) { complaint(id: $id) { id status } }";
