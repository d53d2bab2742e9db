use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A fixed secret so tests can mint tokens with `aduan token` for the same server.
pub const TEST_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// The real `aduan` binary serving on a free loopback port.
pub struct TestServer {
    pub base_url: String,
    pub database_url: String,
    pub data_dir: PathBuf,
    bin: PathBuf,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    /// Starts `bin serve` against `database_url` and waits until it listens.
    pub async fn start(bin: &str, database_url: &str, env: &[(&str, &str)]) -> TestServer {
        TestServer::start_at(bin, database_url, "127.0.0.1:0", env).await
    }

    /// As `start`, listening on `addr` (a restarted process behind a load
    /// balancer comes back on its old port).
    pub async fn start_at(
        bin: &str,
        database_url: &str,
        addr: &str,
        env: &[(&str, &str)],
    ) -> TestServer {
        let data_dir =
            std::env::temp_dir().join(format!("aduan-test-{}", uuid::Uuid::new_v4().simple()));
        let mut command = Command::new(bin);
        command
            .args(["serve", "--addr", addr])
            .env("DATABASE_URL", database_url)
            .env("ADUAN_DATA_DIR", &data_dir)
            .env("ADUAN_JWT_SECRET", TEST_SECRET)
            .env("ADUAN_LOG", "info")
            .env("NO_COLOR", "1")
            // Tests submit far faster than a citizen may; the limit has its own test.
            .env("ADUAN_SUBMIT_RATE_PER_MINUTE", "0")
            // No load balancer watches a test's server: it stops without the
            // drain (the shutdown tests set one).
            .env("ADUAN_SHUTDOWN_DRAIN_MS", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, mut addr_rx) = tokio::sync::mpsc::unbounded_channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout"))
                as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let log = log.clone();
            let addr_tx = addr_tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split('/').next().unwrap_or_default().to_string();
                        let _ = addr_tx.send(addr);
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        drop(addr_tx);
        let addr = tokio::time::timeout(Duration::from_secs(60), addr_rx.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                panic!(
                    "the server did not start listening; its log:\n{}",
                    log.lock().unwrap().join("\n")
                )
            });
        TestServer {
            base_url: format!("http://{addr}"),
            database_url: database_url.to_string(),
            data_dir,
            bin: PathBuf::from(bin),
            child,
            log,
        }
    }

    /// Whether the server process is still running (it has not exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The server process's id (None once it has been reaped), for reading its
    /// memory or signalling it.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The server's resident memory in KiB (`VmRSS` in /proc).
    pub fn rss_kib(&self) -> u64 {
        let pid = self.pid().expect("the server is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
    }

    /// The `host:port` it listens on.
    pub fn addr(&self) -> &str {
        self.base_url.trim_start_matches("http://")
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Mints a token with the real `aduan token` command.
    pub async fn token(&self, role: &str, opd: Option<&str>, sub: &str) -> String {
        let mut command = Command::new(&self.bin);
        command
            .args(["token", "--role", role, "--sub", sub])
            .env("ADUAN_DATA_DIR", &self.data_dir)
            .env("ADUAN_JWT_SECRET", TEST_SECRET);
        if let Some(opd) = opd {
            command.args(["--opd", opd]);
        }
        let out = command.output().await.expect("run aduan token");
        assert!(
            out.status.success(),
            "aduan token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8 token")
            .trim()
            .to_string()
    }

    /// A token valid for `ttl` only (`aduan token` counts in hours), signed
    /// with the test secret as the server's own tokens are.
    pub fn short_lived_token(
        &self,
        role: &str,
        opd: Option<&str>,
        sub: &str,
        ttl: Duration,
    ) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "sub": sub, "role": role, "iat": now,
            "exp": now + i64::try_from(ttl.as_secs()).expect("a short ttl"),
        });
        if let Some(opd) = opd {
            claims["opd"] = json!(opd);
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        )
        .expect("sign a token")
    }

    /// A WebSocket client on this server's `/graphql`, initialised with `token`
    /// ("" or `None`: the public).
    pub async fn ws(&self, token: Option<&str>) -> crate::ws::WsClient {
        crate::ws::WsClient::connected(&self.base_url, token.filter(|t| !t.is_empty())).await
    }

    pub fn client(&self, token: &str) -> GraphqlClient {
        GraphqlClient {
            http: reqwest::Client::new(),
            url: format!("{}/graphql", self.base_url),
            token: token.to_string(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.base_url))
            .await
            .expect("GET request")
    }

    /// SIGKILL: the process dies where it stands, as in a power cut of the process.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL");
        let _ = self.child.wait().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }

    /// Sends SIGTERM and returns at once (the server goes on draining).
    pub fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }

    /// SIGTERM, then waits for a clean exit; returns the exit status.
    pub async fn stop(self) -> std::process::ExitStatus {
        self.terminate();
        self.wait_exit().await
    }

    /// Waits (up to 20 s) for the process to exit after `terminate`; its status.
    pub async fn wait_exit(mut self) -> std::process::ExitStatus {
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("server did not stop within 20 s of SIGTERM")
            .expect("wait for server");
        let _ = std::fs::remove_dir_all(&self.data_dir);
        status
    }
}

/// A GraphQL-over-HTTP client with one bearer token.
#[derive(Clone)]
pub struct GraphqlClient {
    http: reqwest::Client,
    pub url: String,
    pub token: String,
}

impl GraphqlClient {
    /// A client for the GraphQL endpoint at `url` (a server this test did not
    /// start, for example behind a load balancer).
    pub fn at(url: &str, token: &str) -> GraphqlClient {
        GraphqlClient {
            http: reqwest::Client::new(),
            url: url.to_string(),
            token: token.to_string(),
        }
    }

    /// Posts a query; returns the whole response body (`data` and `errors`).
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({"query": query, "variables": variables}));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        let response = request.send().await.expect("POST /graphql");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON response");
        assert!(status.is_success(), "HTTP {status}: {body}");
        body
    }

    /// Posts a query that must succeed; returns `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.query(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Posts a query that must fail; returns the first error's `extensions.code`.
    pub async fn error_code(&self, query: &str, variables: Value) -> String {
        let body = self.query(query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code, got {body}"))
            .to_string()
    }
}
