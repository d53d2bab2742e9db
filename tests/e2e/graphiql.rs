//! GraphiQL with no internet: the page and everything it loads come from the
//! server itself, and a real browser (Debian's Chromium, driven by
//! tests/browser/graphiql.mjs) uses it.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graphiql_in_chromium_lists_the_query_fields_and_runs_a_query() {
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
    let driver = Command::new("node")
        .arg(root.join("tests/browser/graphiql.mjs"))
        .arg(format!("{}/graphql", env.server.base_url))
        .arg(&env.agent.token)
        .arg("{ opds { code name } }")
        .args(["complaint", "complaints", "complaintHistory", "opds"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), driver)
        .await
        .expect("the browser driver did not finish within 120 s")
        .expect("run node tests/browser/graphiql.mjs");
    assert!(
        out.status.success(),
        "GraphiQL in Chromium failed:\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        env.server.log()
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the driver printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    // The token typed into the Headers editor went with the query: OPDs are
    // refused without one.
    let codes: Vec<&str> = shown["data"]["opds"]
        .as_array()
        .unwrap_or_else(|| panic!("the result pane shows {shown}"))
        .iter()
        .filter_map(|o| o["code"].as_str())
        .collect();
    assert_eq!(codes, OPDS, "the result pane shows {shown}");
    env.finish().await;
}
