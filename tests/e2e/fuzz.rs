//! Hostile input, generated: a few thousand malformed, oversized or
//! injection-looking GraphQL requests. None may get a 5xx, crash the server, or
//! append anything unless it was a valid submission (which must then be stored
//! verbatim); every refusal carries a code; the server answers normally after.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(a_few_thousand_hostile_requests_change_nothing_they_should_not);

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NASTY: &[&str] = &[
    "'; DROP TABLE events; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "${jndi:ldap://x/a}",
    "../../etc/passwd",
    "{{7*7}}",
    "Robert'); DELETE FROM complaint_summary;--",
    "\u{202e}gnp.exe",
    "جاده خراب است",
    "🚧🕳️",
    "\u{0000}nul",
    "line\u{0007}bell",
    "",
    "   ",
];

/// Text as it is stored: control characters other than line feeds and tabs
/// stripped, blanks trimmed.
fn cleaned(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    kept.trim().to_string()
}

/// One hostile request: (body bytes, content type).
fn hostile(rng: &mut Rng) -> (Vec<u8>, &'static str) {
    let json = "application/json";
    match rng.below(12) {
        // Not UTF-8, not JSON.
        0 => (
            (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
            json,
        ),
        // JSON cut short.
        1 => {
            let full = json!({"query": SUBMIT, "variables": {"input": report()}}).to_string();
            let cut = rng.below(full.len());
            (full.as_bytes()[..cut].to_vec(), json)
        }
        // Garbage as the query.
        2 => {
            const ALPHABET: &[u8] = b"{}()[]:$@!#query mutation fragment on ...";
            let junk: String = (0..rng.below(200))
                .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
                .collect();
            (json!({"query": junk}).to_string().into_bytes(), json)
        }
        // Wrong types for the submission's fields.
        3 => {
            let mut input = report();
            let field = rng.pick(&[
                "title",
                "channel",
                "location",
                "category",
                "reporter",
                "attachments",
            ]);
            input[field] = [
                json!(42),
                json!([1, 2]),
                json!(null),
                json!({"a": 1}),
                json!(true),
            ][rng.below(5)]
            .clone();
            (
                json!({"query": SUBMIT, "variables": {"input": input}})
                    .to_string()
                    .into_bytes(),
                json,
            )
        }
        // Oversized strings (some past the body limit).
        4 => {
            let mut input = report();
            let size = [201, 5_001, 100_000, 2_000_000][rng.below(4)];
            input[rng.pick(&["title", "description"])] = json!("x".repeat(size));
            (
                json!({"query": SUBMIT, "variables": {"input": input}})
                    .to_string()
                    .into_bytes(),
                json,
            )
        }
        // Injection-looking or odd text in every text field: valid when clean.
        5 | 6 => {
            let mut input = report();
            input["title"] = json!(rng.pick(NASTY));
            input["description"] = json!(rng.pick(NASTY));
            input["location"]["kelurahan"] = json!(rng.pick(NASTY));
            (
                json!({"query": SUBMIT, "variables": {"input": input}})
                    .to_string()
                    .into_bytes(),
                json,
            )
        }
        // Deep nesting.
        7 => {
            let depth = 5 + rng.below(40);
            let query = format!(
                "{{ __schema {{ types {}{}{} }} }}",
                "{ fields { type ".repeat(depth),
                "{ name }",
                " } }".repeat(depth)
            );
            (json!({"query": query}).to_string().into_bytes(), json)
        }
        // Many aliases.
        8 => {
            let query: String = (0..rng.below(300))
                .map(|i| format!("a{i}: me {{ id }} "))
                .collect();
            (
                json!({"query": format!("{{ {query} }}")})
                    .to_string()
                    .into_bytes(),
                json,
            )
        }
        // Page sizes out of range, cursors that are not.
        9 => {
            let first = [-1, 0, 101, 1_000_000, i32::MAX as i64][rng.below(5)];
            let query = format!(
                "{{ complaints(first: {first}, after: \"{}\") {{ totalCount }} }}",
                rng.pick(NASTY).replace('"', "")
            );
            (json!({"query": query}).to_string().into_bytes(), json)
        }
        // Unknown operations and fields.
        10 => (
            json!({"query": "mutation { dropEverything }"})
                .to_string()
                .into_bytes(),
            json,
        ),
        // The wrong content type.
        _ => (b"query { me { id } }".to_vec(), "text/plain"),
    }
}

async fn a_few_thousand_hostile_requests_change_nothing_they_should_not(backend: Backend) {
    let env = Env::start(backend).await;
    let http = reqwest::Client::new();
    let mut rng = Rng(0x6164_7561_6e21);
    let (mut accepted, mut refused) = (Vec::new(), 0);
    let total = 3000;
    for n in 0..total {
        let (body, content_type) = hostile(&mut rng);
        let sent: Value = serde_json::from_slice(&body).unwrap_or_default();
        // An agent's token: submissions by staff are not rate-limited.
        let response = http
            .post(&env.agent.url)
            .bearer_auth(&env.agent.token)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {n}: the server did not answer: {e}"));
        let status = response.status();
        assert!(status.as_u16() < 500, "request {n}: HTTP {status}");
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("request {n}: HTTP {status}, not JSON: {text}"));
        match body["errors"].as_array() {
            Some(errors) => {
                refused += 1;
                for e in errors {
                    assert!(
                        e["extensions"]["code"].is_string(),
                        "request {n}: an error without a code: {body}"
                    );
                }
            }
            None => {
                if let Some(stored) = body["data"]["submitComplaint"].as_object() {
                    let title = sent["variables"]["input"]["title"].as_str().unwrap_or("");
                    accepted.push((stored["id"].as_str().unwrap().to_string(), cleaned(title)));
                }
            }
        }
    }
    assert!(refused > total / 2, "most were refused: {refused}");
    // Exactly the accepted submissions were appended, each as sent.
    assert_eq!(
        env.store.scalar("SELECT count(*) FROM events").await,
        accepted.len() as i64
    );
    for (id, title) in accepted.iter().take(100) {
        let stored = env.history(id).await[0]["payload"]["title"].clone();
        assert_eq!(
            stored,
            title.as_str(),
            "stored as sent, control characters stripped and trimmed"
        );
    }
    eprintln!(
        "{backend:?}: {total} hostile requests, {refused} refused with a code, {} valid submissions stored",
        accepted.len()
    );
    // And the server still works.
    assert_eq!(env.server.get("/healthz").await.status(), 200);
    let id = env.submit().await;
    assert_eq!(env.current(&id).await["status"], "SUBMITTED");
    env.finish().await;
}
