//! GraphiQL with no internet: the page and everything it loads come from the
//! server itself, and a real browser (Debian's Chromium, driven by
//! tests/browser/graphiql.mjs) uses it: the documentation explorer, a query,
//! and a subscription whose notice shows in the result pane.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::support::*;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `src` and `href` in the page.
fn links(page: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| page.split(attr).skip(1))
        .map(|rest| rest.split('"').next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_graphiql_page_links_only_assets_the_server_embeds() {
    let env = Env::start(Backend::Sqlite).await;
    let page = env.server.get("/graphql").await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let page = page.text().await.unwrap();
    let links = links(&page);
    let assets: Vec<&String> = links.iter().filter(|l| !l.starts_with("data:")).collect();
    assert_eq!(assets.len(), 6, "{links:?}");
    for link in &assets {
        assert!(
            link.starts_with("graphiql/assets/") && !link.contains("//"),
            "the page links {link}, which is not one of the server's own assets"
        );
        let response = env.server.get(&format!("/{link}")).await;
        assert_eq!(response.status(), 200, "{link}");
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_string();
        let expected = match link.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            _ => "text/plain",
        };
        assert!(header("content-type").starts_with(expected), "{link}");
        assert!(header("cache-control").contains("immutable"), "{link}");
        let body = response.bytes().await.unwrap();
        assert!(body.len() > 100, "{link} is empty");
        if link.ends_with("THIRD-PARTY-LICENSES.txt") {
            let text = String::from_utf8_lossy(&body);
            for package in ["graphiql@4", "react@18", "react-dom@18", "graphql-ws@"] {
                assert!(text.contains(package), "no licence for {package}");
            }
        }
    }
    // Another version's URL is not answered with this version's content.
    let script = assets
        .iter()
        .find(|l| l.ends_with("graphiql.min.js"))
        .unwrap();
    let version = script.split('/').nth(2).unwrap();
    let stale = script.replace(version, "0123456789abcdef");
    assert_eq!(env.server.get(&format!("/{stale}")).await.status(), 404);
    env.finish().await;
}

/// tests/browser/graphiql.mjs running: its stdout read a line of JSON at a
/// time, its stderr kept for the failure message.
struct BrowserDriver {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Option<tokio::task::JoinHandle<String>>,
}

impl BrowserDriver {
    fn spawn(command: &mut Command) -> BrowserDriver {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run node tests/browser/graphiql.mjs");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        BrowserDriver {
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    /// What the driver said on stderr, once it has ended (killed if need be).
    async fn failure(&mut self) -> String {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        match self.stderr.take() {
            Some(task) => task.await.unwrap_or_default(),
            None => String::new(),
        }
    }

    /// The driver's next line of JSON, within `wait`.
    async fn next(&mut self, wait: Duration, what: &str, env: &Env) -> Value {
        let line = match tokio::time::timeout(wait, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            other => {
                let why = match other {
                    Err(_) => format!("nothing within {wait:?}"),
                    _ => "it ended".to_string(),
                };
                panic!(
                    "GraphiQL in Chromium: no {what} ({why}):\n{}\nserver log:\n{}",
                    self.failure().await,
                    env.server.log()
                );
            }
        };
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the driver printed no JSON for {what} ({e}): {line}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graphiql_in_chromium_lists_the_query_fields_runs_a_query_and_a_subscription() {
    let root = repo_root();
    let ensured = Command::new(root.join("scripts/ensure-chromium"))
        .output()
        .await
        .expect("run scripts/ensure-chromium");
    assert!(
        ensured.status.success(),
        "Chromium and the browser driver cannot be installed (scripts/ensure-chromium):\n{}",
        String::from_utf8_lossy(&ensured.stderr)
    );

    let env = Env::start(Backend::Sqlite).await;
    // The subscription resumes after this submission, so the change made below
    // reaches it whether the server has made the subscription live by then or
    // not.
    let submitted = env.citizen.ok(SUBMIT, json!({"input": report()})).await;
    let id = id_of(&submitted);
    let after = returned(&submitted)["position"].as_i64().unwrap();
    let subscription = format!(
        "subscription {{ complaintEvents(afterPosition: {after}) {{ position type complaintId }} }}"
    );
    let mut driver = BrowserDriver::spawn(
        Command::new("node")
            .arg(root.join("tests/browser/graphiql.mjs"))
            .arg(format!("{}/graphql", env.server.base_url))
            .arg(&env.agent.token)
            .arg("{ opds { code name } }")
            .args(["complaint", "complaints", "complaintHistory", "opds"])
            .args(["--subscription", &subscription]),
    );

    let shown = driver
        .next(Duration::from_secs(120), "query result", &env)
        .await;
    // The token typed into the Headers editor went with the query: OPDs are
    // refused without one.
    let codes: Vec<&str> = shown["query"]["data"]["opds"]
        .as_array()
        .unwrap_or_else(|| panic!("the result pane shows {shown}"))
        .iter()
        .filter_map(|o| o["code"].as_str())
        .collect();
    assert_eq!(codes, OPDS, "the result pane shows {shown}");

    let subscribed = driver
        .next(Duration::from_secs(30), "subscription", &env)
        .await;
    assert_eq!(subscribed, json!({"subscribed": true}));
    let verified = env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    let position = returned(&verified)["position"].as_i64().unwrap();
    // The notice of that command and nothing else (nothing else happened since
    // `after`); complaintEvents refuses the public, so the Headers editor's
    // token went in connection_init.
    let shown = driver.next(Duration::from_secs(30), "notice", &env).await;
    assert_eq!(
        shown["notice"],
        json!({"data": {"complaintEvents": {
            "position": position, "type": "Verified", "complaintId": id
        }}}),
        "the result pane shows {shown}"
    );
    let status = tokio::time::timeout(Duration::from_secs(30), driver.child.wait())
        .await
        .expect("the browser driver did not end within 30 s of the notice")
        .expect("wait for the browser driver");
    assert!(
        status.success(),
        "GraphiQL in Chromium failed:\n{}",
        driver.failure().await
    );
    env.finish().await;
}
