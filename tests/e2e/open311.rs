//! Open311 GeoReport v2 end to end, in JSON and XML: services and a service
//! definition, an API key issued by a supervisor, POST requests with and
//! without it, bad input refused with nothing appended, a retried POST that
//! returns the first id, GET requests by ids, service, dates and status,
//! tokens, 404s, and FixMyStreet's service request updates as the case moves
//! through its lifecycle over GraphQL; no reporter data in public answers.

use std::collections::HashMap;

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(open311_files_and_reads_requests_in_json_and_xml);
on_both_stores!(open311_updates_follow_a_case_through_its_lifecycle);

/// A client's view of the server's `/open311/v2/`.
pub(crate) struct Open311 {
    base: String,
    http: reqwest::Client,
}

/// An answer: the status and the body's text.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    /// The records of an XML list answer (`<root><element>..</element>..`),
    /// each element's children by name (text; nested lists as their text).
    fn xml(&self, root: &str) -> Vec<HashMap<String, String>> {
        xml_records(&self.text, root)
    }
}

impl Open311 {
    pub(crate) fn new(env: &Env) -> Open311 {
        Open311 {
            base: format!("http://{}/open311/v2", env.server.addr()),
            http: reqwest::Client::new(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}/{path}", self.base))
            .send()
            .await
            .expect("GET");
        answer(response).await
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        key: Option<&str>,
    ) -> Answer {
        let mut request = self.http.post(format!("{}/{path}", self.base)).form(form);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        answer(request.send().await.expect("POST")).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status().as_u16(),
        text: response.text().await.expect("body"),
    }
}

/// Parses an XML list with a real parser, checking the root's name.
fn xml_records(text: &str, root: &str) -> Vec<HashMap<String, String>> {
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let mut current: HashMap<String, String> = HashMap::new();
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("{e}: {text}"))
        {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if path.is_empty() {
                    assert_eq!(name, root, "{text}");
                }
                path.push(name);
            }
            Event::End(_) => {
                if path.len() == 2 {
                    records.push(std::mem::take(&mut current));
                }
                path.pop();
            }
            Event::Text(t) if path.len() >= 3 => {
                let value = t.decode().unwrap();
                let value = quick_xml::escape::unescape(&value).unwrap().into_owned();
                current.entry(path[2].clone()).or_default().push_str(&value);
            }
            Event::GeneralRef(r) if path.len() >= 3 => {
                let name = String::from_utf8(r.to_vec()).unwrap();
                let c = match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                };
                current.entry(path[2].clone()).or_default().push_str(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    records
}

pub(crate) async fn issue_key(env: &Env, name: &str) -> (String, String) {
    let data = env
        .supervisor
        .ok(
            "mutation($name: String!) { issueOpen311Key(name: $name) { client { id name } apiKey } }",
            json!({"name": name}),
        )
        .await;
    let issued = &data["issueOpen311Key"];
    (
        issued["client"]["id"].as_str().unwrap().to_string(),
        issued["apiKey"].as_str().unwrap().to_string(),
    )
}

/// A pothole report as FixMyStreet sends it; the reporter's words include
/// every character XML must escape.
fn pothole(key: &str) -> Vec<(&str, &str)> {
    vec![
        ("api_key", key),
        ("jurisdiction_id", "makassar.go.id"),
        ("service_code", "ROAD_DAMAGE"),
        ("lat", "-5.1551"),
        ("long", "119.4239"),
        ("address_string", "Jl. Veteran Selatan 12"),
        (
            "description",
            "Lubang <besar> & \"dalam\" di depan SD 'Inpres'",
        ),
        ("email", "budi@example.id"),
        ("first_name", "Budi"),
        ("last_name", "Santoso"),
        ("phone", "+62 811 4000 777"),
        ("media_url", "https://fms.example/photo/1.jpeg"),
        ("attribute[damage_kind]", "pothole"),
        ("attribute[width_cm]", "40"),
    ]
}

async fn events(env: &Env) -> i64 {
    env.store.scalar("SELECT count(*) FROM events").await
}

/// Personal data of `pothole()` that must never be in a public answer.
const PERSONAL: [&str; 7] = [
    "Budi",
    "Santoso",
    "budi@example.id",
    "4000 777",
    "Veteran",
    "Lubang",
    "fms.example",
];

fn assert_public(text: &str) {
    for word in PERSONAL {
        assert!(!text.contains(word), "{word} in a public answer: {text}");
    }
}

async fn open311_files_and_reads_requests_in_json_and_xml(backend: Backend) {
    let env = Env::start(backend).await;
    let o = Open311::new(&env);

    // Services, in both formats, and the definition of one with attributes.
    let services = o.get("services.json").await;
    assert_eq!(services.status, 200);
    let list = services.json();
    let road = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "ROAD_DAMAGE")
        .expect("ROAD_DAMAGE is a service")
        .clone();
    assert_eq!(road["metadata"], true);
    assert_eq!(road["type"], "realtime");
    let xml = o.get("services.xml").await;
    assert_eq!(xml.status, 200);
    let records = xml.xml("services");
    assert_eq!(records.len(), list.as_array().unwrap().len());
    assert!(records
        .iter()
        .any(|r| r["service_code"] == "GARBAGE" && r["metadata"] == "false"));
    let definition = o.get("services/ROAD_DAMAGE.json").await.json();
    assert_eq!(definition["service_code"], "ROAD_DAMAGE");
    let kind = &definition["attributes"][0];
    assert_eq!(kind["code"], "damage_kind");
    assert_eq!(kind["datatype"], "singlevaluelist");
    assert_eq!(kind["required"], true);
    assert_eq!(kind["values"][0]["key"], "pothole");
    let xml = o.get("services/ROAD_DAMAGE.xml").await;
    assert!(
        xml.text.contains("<service_definition><service_code>ROAD_DAMAGE</service_code><attributes><attribute><variable>true</variable><code>damage_kind</code>"),
        "{}",
        xml.text
    );
    let missing = o.get("services/NO_SUCH.xml").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.xml("errors")[0]["code"], "404");

    // Without a key, with a wrong one, with a revoked one: 403, nothing appended.
    let (client_id, key) = issue_key(&env, "FixMyStreet Makassar").await;
    let (revoked_id, revoked) = issue_key(&env, "old integration").await;
    env.supervisor
        .ok(
            "mutation($id: ID!) { revokeOpen311Key(id: $id) { revokedAt } }",
            json!({"id": revoked_id}),
        )
        .await;
    let before = events(&env).await;
    let no_key: Vec<_> = pothole(&key)
        .into_iter()
        .filter(|(k, _)| *k != "api_key")
        .collect();
    for (form, what) in [
        (no_key, "no key"),
        (pothole("o311_not-a-key"), "a wrong key"),
        (pothole(&revoked), "a revoked key"),
    ] {
        let refused = o.post("requests.json", &form, None).await;
        assert_eq!(refused.status, 403, "{what}: {}", refused.text);
        let body = refused.json();
        assert_eq!(body[0]["code"], 403, "{what}");
        assert!(body[0]["description"].as_str().unwrap().contains("api_key"));
    }
    let refused = o.post("requests.xml", &pothole("wrong"), None).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.xml("errors")[0]["code"], "403");

    // Bad input: 400 with a description naming the parameter, nothing appended.
    let bad: [(&str, &str, &str); 9] = [
        ("service_code", "NO_SUCH", "service_code"),
        ("lat", "north", "lat"),
        // Outside the city's box (reference.toml's `[city] bounds`).
        ("lat", "-6.2", "lat"),
        ("long", "119.7", "long"),
        ("attribute[damage_kind]", "tree", "attribute[damage_kind]"),
        ("attribute[width_cm]", "wide", "attribute[width_cm]"),
        ("attribute[colour]", "red", "attribute[colour]"),
        ("email", "not an address", "email"),
        ("media_url", "javascript:alert(1)", "media_url"),
    ];
    for (field, value, named) in bad {
        let mut form = pothole(&key);
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let refused = o.post("requests.json", &form, None).await;
        assert_eq!(refused.status, 400, "{field}={value}: {}", refused.text);
        let body = refused.json();
        assert_eq!(body[0]["code"], 400);
        let description = body[0]["description"].as_str().unwrap();
        assert!(description.contains(named), "{field}: {description}");
    }
    let mut unlocated = pothole(&key);
    unlocated.retain(|(k, _)| !matches!(*k, "lat" | "long" | "address_string"));
    let refused = o.post("requests.xml", &unlocated, None).await;
    assert_eq!(refused.status, 400);
    assert!(refused.xml("errors")[0]["description"].contains("location"));
    let mut unrequired = pothole(&key);
    unrequired.retain(|(k, _)| *k != "attribute[damage_kind]");
    assert_eq!(o.post("requests.json", &unrequired, None).await.status, 400);
    assert_eq!(events(&env).await, before, "refusals appended events");

    // Filed: the id, a notice and the token (the tracking code).
    let filed = o.post("requests.json", &pothole(&key), None).await;
    assert_eq!(filed.status, 200, "{}", filed.text);
    let filed = filed.json();
    let id = filed[0]["service_request_id"].as_str().unwrap().to_string();
    let token = filed[0]["token"].as_str().unwrap().to_string();
    assert!(filed[0]["service_notice"].as_str().is_some());
    // The number a citizen quotes to 112, the case's own.
    let number = filed[0]["case_number"].as_str().unwrap().to_string();
    assert!(number.starts_with("MKS-20"), "{number}");
    assert_eq!(events(&env).await, before + 1);
    let case = env.current(&id).await;
    assert_eq!(case["status"], "SUBMITTED");
    let stored = env
        .auditor
        .ok(
            "query($id: ID!) { complaint(id: $id) { number channel category title description reporter { name email phone } location { latitude address } } }",
            json!({"id": id}),
        )
        .await;
    let stored = &stored["complaint"];
    assert_eq!(stored["channel"], "OPEN311");
    assert_eq!(stored["number"], number.as_str());
    assert_eq!(stored["reporter"]["name"], "Budi Santoso");
    assert_eq!(stored["reporter"]["email"], "budi@example.id");
    assert_eq!(stored["location"]["address"], "Jl. Veteran Selatan 12");
    let description = stored["description"].as_str().unwrap();
    assert!(description.contains("Jenis kerusakan (kind of damage): Lubang (pothole)"));
    assert!(description.contains(": 40"));
    let history = env.history(&id).await;
    assert_eq!(history[0]["channel"], "open311");
    assert_eq!(history[0]["role"], "SYSTEM");
    assert_eq!(history[0]["actor"], format!("open311:{client_id}"));

    // A retry (the same body) returns the first id and appends nothing; so
    // does one with the same Idempotency-Key; the key with another body is 400.
    let again = o.post("requests.json", &pothole(&key), None).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()[0]["service_request_id"], id.as_str());
    assert_eq!(again.json()[0]["token"], token.as_str());
    assert_eq!(again.json()[0]["case_number"], number.as_str());
    let keyed = o.post("requests.xml", &pothole(&key), Some("fms-42")).await;
    assert_eq!(keyed.status, 200, "{}", keyed.text);
    let keyed_id = keyed.xml("service_requests")[0]["service_request_id"].clone();
    assert_ne!(keyed_id, id, "a keyed request is a request of its own");
    let count = events(&env).await;
    let mut other = pothole(&key);
    other.push(("attribute[width_cm]", "41"));
    other.retain(|(k, v)| *k != "attribute[width_cm]" || *v == "41");
    let retried = o.post("requests.json", &other, Some("fms-42")).await;
    assert_eq!(retried.status, 400, "{}", retried.text);
    assert!(retried.json()[0]["description"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
    let retried = o
        .post("requests.json", &pothole(&key), Some("fms-42"))
        .await;
    assert_eq!(retried.json()[0]["service_request_id"], keyed_id.as_str());
    assert_eq!(events(&env).await, count, "retries appended events");
    // Another client's identical body is another client's case.
    let (_, second_key) = issue_key(&env, "second client").await;
    let theirs = o
        .post("requests.json", &pothole(&second_key), None)
        .await
        .json();
    assert_ne!(theirs[0]["service_request_id"], id.as_str());

    // Only an address: filed, without coordinates in answers.
    let mut addressed = pothole(&key);
    addressed.retain(|(k, _)| !matches!(*k, "lat" | "long"));
    addressed.push(("description", "Jalan amblas"));
    addressed.retain(|(k, v)| *k != "description" || *v == "Jalan amblas");
    let addressed = o.post("requests.json", &addressed, None).await.json();
    let addressed_id = addressed[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();

    // One garbage report, rejected, so a status filter has something to leave out.
    let garbage = env
        .citizen
        .ok(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id } }",
            json!({"input": report_with(json!({"category": "GARBAGE"}))}),
        )
        .await;
    let garbage = id_of(&garbage);
    env.agent
        .ok(
            crate::support::MUTATE_REJECT,
            input(&garbage, json!({"reason": "SPAM"})),
        )
        .await;
    caught_up(&env.store, &env.supervisor).await;

    // GET requests/{id} and tokens/{token}, in both formats.
    let one = o.get(&format!("requests/{id}.json")).await;
    assert_eq!(one.status, 200);
    assert_public(&one.text);
    let one = one.json();
    assert_eq!(one[0]["service_request_id"], id.as_str());
    assert_eq!(one[0]["status"], "open");
    assert_eq!(one[0]["case_number"], number.as_str());
    assert_eq!(one[0]["service_code"], "ROAD_DAMAGE");
    assert_eq!(one[0]["lat"], -5.1551);
    assert!(one[0].get("description").is_none() && one[0].get("address").is_none());
    let xml = o.get(&format!("requests/{id}.xml")).await;
    assert_public(&xml.text);
    let record = &xml.xml("service_requests")[0];
    assert_eq!(record["service_request_id"], id);
    assert_eq!(record["status"], "open");
    assert_eq!(record["case_number"], number);
    assert_eq!(record["long"], "119.4239");
    let none = o.get(&format!("requests/{addressed_id}.json")).await.json();
    assert!(none[0]["lat"].is_null(), "{none}");
    assert_eq!(
        o.get("requests/0b5e2a1c-0000-4000-8000-000000000000.json")
            .await
            .status,
        404
    );
    let unknown = o.get("requests/nope.xml").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.xml("errors")[0]["code"], "404");
    let tokens = o.get(&format!("tokens/{token}.xml")).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(tokens.xml("service_requests")[0]["service_request_id"], id);
    let forged = format!("{}A", &token[..token.len() - 1]);
    let forged = if forged == token {
        format!("{}B", &token[..token.len() - 1])
    } else {
        forged
    };
    assert_eq!(o.get(&format!("tokens/{forged}.json")).await.status, 404);

    // GET requests: ids, service, status, dates.
    let listed = o
        .get(&format!(
            "requests.json?service_request_id={id},{garbage},nope"
        ))
        .await;
    assert_public(&listed.text);
    let listed = listed.json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str(), garbage.as_str()]);
    assert_eq!(listed[1]["status"], "closed");
    let all = o.get("requests.json").await.json();
    assert_eq!(all.as_array().unwrap().len(), 5, "{all}");
    let roads = o
        .get("requests.json?service_code=ROAD_DAMAGE&jurisdiction_id=makassar.go.id")
        .await
        .json();
    assert_eq!(roads.as_array().unwrap().len(), 4);
    let closed = o.get("requests.xml?status=closed").await;
    let closed = closed.xml("service_requests");
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["service_request_id"], garbage);
    let open = o.get("requests.json?status=open").await.json();
    assert_eq!(open.as_array().unwrap().len(), 4);
    let past = o
        .get("requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z")
        .await
        .json();
    assert_eq!(past, json!([]));
    let today = chrono::Utc::now();
    let window = format!(
        "requests.json?start_date={}&end_date={}",
        (today - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (today + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    assert_eq!(o.get(&window).await.json().as_array().unwrap().len(), 5);
    for (query, named) in [
        ("start_date=2020-01-01&end_date=2020-06-01", "90 days"),
        ("start_date=yesterday", "start_date"),
        ("status=pending", "status"),
    ] {
        let refused = o.get(&format!("requests.json?{query}")).await;
        assert_eq!(refused.status, 400, "{query}");
        let description = refused.json()[0]["description"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(description.contains(named), "{query}: {description}");
    }
    let too_many = (0..1001)
        .map(|i| format!("id{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let refused = o
        .get(&format!("requests.json?service_request_id={too_many}"))
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(o.get("nothing.json").await.status, 404);

    // The clients list shows who was issued a key, never a key.
    let clients = env
        .auditor
        .ok(
            "{ open311Clients { id name createdBy revokedAt } }",
            json!({}),
        )
        .await;
    let text = clients.to_string();
    assert!(!text.contains(&key) && !text.contains("o311_"));
    let listed = clients["open311Clients"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0]["name"], "FixMyStreet Makassar");
    assert_eq!(listed[0]["createdBy"], "spv-1");
    assert!(listed[1]["revokedAt"].is_string());
    let stored: i64 = env
        .store
        .scalar(&format!(
            "SELECT count(*) FROM integration_state WHERE value LIKE '%{key}%' OR key LIKE '%{key}%'"
        ))
        .await;
    assert_eq!(stored, 0, "the key is stored in clear");
    // The server's body limit holds here too: 413 before the form is read.
    let before = events(&env).await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let mut form = pothole(&key);
    form.retain(|(k, _)| *k != "description");
    form.push(("description", &huge));
    let refused = o.post("requests.json", &form, None).await;
    assert_eq!(refused.status, 413);
    assert_eq!(refused.json()[0]["code"], 413, "{}", refused.text);
    let refused = o.post("requests.xml", &form, None).await;
    assert_eq!(refused.status, 413);
    assert_eq!(refused.xml("errors")[0]["code"], "413", "{}", refused.text);
    assert_eq!(events(&env).await, before);
    let metrics = env.server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("aduan_command_duration_seconds_count")
                && l.contains("operation=\"open311Submit\"")
                && !l.ends_with(" 0")),
        "{metrics}"
    );
    env.finish().await;
}

async fn open311_updates_follow_a_case_through_its_lifecycle(backend: Backend) {
    let env = Env::start(backend).await;
    let o = Open311::new(&env);
    let (_, key) = issue_key(&env, "FixMyStreet").await;
    let (_, other_key) = issue_key(&env, "another client").await;
    let start = (chrono::Utc::now() - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let filed = o.post("requests.json", &pothole(&key), None).await.json();
    let id = filed[0]["service_request_id"].as_str().unwrap().to_string();

    env.agent
        .ok(crate::support::MUTATE_VERIFY, input(&id, json!({})))
        .await;
    env.agent
        .ok(
            crate::support::MUTATE_ASSIGN,
            input(&id, json!({"opd": "DPU"})),
        )
        .await;
    env.dpu_officer
        .ok(
            crate::support::MUTATE_RESPOND,
            input(&id, json!({"message": "Tim <DPU> & petugas menuju lokasi"})),
        )
        .await;
    env.dpu_officer
        .ok(
            crate::support::MUTATE_ADD_NOTE,
            input(
                &id,
                json!({"text": "internal note", "visibility": "INTERNAL"}),
            ),
        )
        .await;
    env.dpu_officer
        .ok(
            crate::support::MUTATE_CLOSE,
            input(
                &id,
                json!({"resolution": "RESOLVED", "summary": "Sudah ditambal"}),
            ),
        )
        .await;
    env.agent
        .ok(
            crate::support::MUTATE_REOPEN,
            input(&id, json!({"reason": "Masih berlubang"})),
        )
        .await;
    caught_up(&env.store, &env.supervisor).await;
    let end = (chrono::Utc::now() + chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let window = format!("start_date={start}&end_date={end}");

    // The filing client, with its key: the OPD's words to the reporter.
    let mine = o
        .get(&format!(
            "servicerequestupdates.json?{window}&api_key={key}&jurisdiction_id=makassar"
        ))
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let mine = mine.json();
    let statuses: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "investigating",
            "action_scheduled",
            "in_progress",
            "fixed",
            "open"
        ]
    );
    // The internal note (event 5) is no update.
    for (update, sequence) in mine.as_array().unwrap().iter().zip([2, 3, 4, 6, 7]) {
        assert_eq!(update["service_request_id"], id.as_str());
        assert_eq!(update["update_id"], format!("{id}-{sequence}").as_str());
        timestamp(&update["updated_datetime"]);
    }
    assert_eq!(mine[2]["description"], "Tim <DPU> & petugas menuju lokasi");
    assert_eq!(mine[1]["description"], "Assigned to Dinas Pekerjaan Umum.");
    assert_eq!(
        mine[3]["description"], "Sudah ditambal",
        "the closing summary"
    );
    let text = mine.to_string();
    assert!(!text.contains("internal note") && !text.contains("Masih berlubang"));
    assert_public(&text);

    // XML, without a key: the same updates, fixed texts, escaped markup.
    let public = o.get(&format!("servicerequestupdates.xml?{window}")).await;
    assert_eq!(public.status, 200);
    assert_public(&public.text);
    assert!(!public.text.contains("petugas"), "{}", public.text);
    let updates = public.xml("service_request_updates");
    assert_eq!(updates.len(), 5);
    assert_eq!(updates[3]["status"], "fixed");
    assert_eq!(updates[3]["description"], "Closed: resolved.");
    assert_eq!(
        updates[2]["description"],
        "The department responded to the reporter."
    );
    // Another client's key does not open this client's case's words.
    let theirs = o
        .get(&format!(
            "servicerequestupdates.json?{window}&api_key={other_key}"
        ))
        .await
        .json();
    assert_eq!(
        theirs[2]["description"],
        "The department responded to the reporter."
    );
    let xml_own = o
        .get(&format!("servicerequestupdates.xml?{window}&api_key={key}"))
        .await;
    assert!(
        xml_own.text.contains("Tim &lt;DPU&gt; &amp; petugas"),
        "{}",
        xml_own.text
    );
    assert_eq!(
        xml_own.xml("service_request_updates")[2]["description"],
        "Tim <DPU> & petugas menuju lokasi"
    );

    // The request itself follows: open after the reopening, then an empty
    // window, a wrong key and a window too long.
    let now = o.get(&format!("requests/{id}.json")).await.json();
    assert_eq!(now[0]["status"], "open");
    assert_eq!(now[0]["agency_responsible"], "Dinas Pekerjaan Umum");
    let empty = o
        .get("servicerequestupdates.json?start_date=2020-01-01T00:00:00Z&end_date=2020-01-02T00:00:00Z")
        .await
        .json();
    assert_eq!(empty, json!([]));
    let wrong = o
        .get(&format!(
            "servicerequestupdates.json?{window}&api_key=o311_wrong"
        ))
        .await;
    assert_eq!(wrong.status, 403);
    let long = o
        .get("servicerequestupdates.xml?start_date=2020-01-01T00:00:00Z&end_date=2020-12-01T00:00:00Z")
        .await;
    assert_eq!(long.status, 400);
    assert_eq!(long.xml("errors")[0]["code"], "400");
    env.finish().await;
}
