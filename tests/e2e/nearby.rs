//! "Is it one of these?" through the real server, on both stores: reports 50 m
//! and 400 m from a caller are suggested or not by the category's rule (250 m
//! for citizens, 1 km for staff, open cases of the same category), the agent's
//! `submitComplaint` answer lists them, lists filter by circle and box, and
//! questions out of bounds are refused by their field.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(nearby_reports_are_suggested_by_the_category_rule);

/// A degree of latitude, in meters, on the sphere the server measures on.
const DEGREE: f64 = 111_195.08;
const HERE: (f64, f64) = (-5.1551, 119.4239);

fn north_of_here(meters: f64) -> (f64, f64) {
    (HERE.0 + meters / DEGREE, HERE.1)
}

fn report_at(point: (f64, f64), category: &str) -> Value {
    report_with(json!({
        "category": category,
        "location": {"latitude": point.0, "longitude": point.1,
                     "kecamatan": "MAKASSAR", "kelurahan": "Maradekaya"},
    }))
}

async fn submitted(env: &Env, point: (f64, f64), category: &str) -> String {
    let data = env
        .agent
        .ok(SUBMIT, json!({"input": report_at(point, category)}))
        .await;
    id_of(&data)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

const STAFF: &str = "query($lat: Float!, $lon: Float!, $r: Float, $open: Boolean) { \
    nearbyComplaints(latitude: $lat, longitude: $lon, category: \"ROAD_DAMAGE\", \
    radiusMeters: $r, openOnly: $open) { id distanceMeters latitude longitude } }";
const PUBLIC: &str = "query($lat: Float!, $lon: Float!, $r: Float) { \
    publicNearbyComplaints(latitude: $lat, longitude: $lon, category: \"ROAD_DAMAGE\", \
    radiusMeters: $r) { id status distanceMeters reportCount } }";
const LIST: &str = "query($filter: ComplaintFilter) { complaints(filter: $filter) { \
    totalCount edges { node { id distanceMeters latitude } } } }";
const SUBMIT_SUGGESTED: &str = "mutation($input: SubmitComplaintInput!) { \
    submitComplaint(input: $input) { id possibleDuplicates { id distanceMeters } } }";

async fn nearby_reports_are_suggested_by_the_category_rule(backend: Backend) {
    let env = Env::start(backend).await;
    let near = submitted(&env, north_of_here(50.0), "ROAD_DAMAGE").await;
    let far = submitted(&env, north_of_here(400.0), "ROAD_DAMAGE").await;
    let garbage = submitted(&env, north_of_here(50.0), "GARBAGE").await;
    let closed = submitted(&env, north_of_here(20.0), "ROAD_DAMAGE").await;
    let close = json!({"resolution": "OUT_OF_SCOPE", "summary": "Bukan jalan kota."});
    env.agent.ok(MUTATE_CLOSE, input(&closed, close)).await;
    caught_up(&env.store, &env.supervisor).await;
    let at = |r: Option<f64>| json!({"lat": HERE.0, "lon": HERE.1, "r": r});

    // Citizens, with or without an account: 250 m, so the 50 m report only.
    for client in [&env.citizen, &env.server.client("")] {
        let data = client.ok(PUBLIC, at(None)).await;
        let found = &data["publicNearbyComplaints"];
        assert_eq!(ids(found), std::slice::from_ref(&near), "{data}");
        assert_eq!(found[0]["distanceMeters"], 50.0);
        assert_eq!(found[0]["reportCount"], 1);
    }
    // Staff: 1 km, nearest first; the other category and the closed case never.
    let data = env.agent.ok(STAFF, at(None)).await;
    assert_eq!(ids(&data["nearbyComplaints"]), [near.clone(), far.clone()]);
    let d = data["nearbyComplaints"][1]["distanceMeters"]
        .as_f64()
        .unwrap();
    assert!((d - 400.0).abs() < 0.5, "{d}");
    let all = env
        .agent
        .ok(STAFF, json!({"lat": HERE.0, "lon": HERE.1, "open": false}))
        .await;
    assert_eq!(
        ids(&all["nearbyComplaints"]),
        [closed.clone(), near.clone(), far.clone()]
    );
    assert!(!ids(&all["nearbyComplaints"]).contains(&garbage));
    let narrow = env.agent.ok(STAFF, at(Some(100.0))).await;
    assert_eq!(
        ids(&narrow["nearbyComplaints"]),
        std::slice::from_ref(&near)
    );

    // Lists by circle and by box.
    let filter = json!({"near": {"latitude": HERE.0, "longitude": HERE.1, "radiusMeters": 100},
                        "category": ["ROAD_DAMAGE"], "status": ["SUBMITTED"]});
    let data = env.agent.ok(LIST, json!({"filter": filter})).await;
    let edges = &data["complaints"]["edges"];
    assert_eq!(data["complaints"]["totalCount"], 1, "{data}");
    assert_eq!(edges[0]["node"]["id"], json!(near));
    assert!((edges[0]["node"]["distanceMeters"].as_f64().unwrap() - 50.0).abs() < 0.5);
    let (s, n) = (north_of_here(300.0).0, north_of_here(500.0).0);
    let boxed = json!({"within": {"south": s, "west": 119.42, "north": n, "east": 119.43}});
    let data = env.agent.ok(LIST, json!({"filter": boxed})).await;
    let found: Vec<Value> = data["complaints"]["edges"].as_array().unwrap().clone();
    assert_eq!(found.len(), 1, "{data}");
    assert_eq!(found[0]["node"]["id"], json!(far));
    assert!(found[0]["node"]["distanceMeters"].is_null());

    // The agent taking a call at this point sees both in the answer; a
    // citizen filing there is shown none.
    let report = json!({"input": report_at(HERE, "ROAD_DAMAGE")});
    let taken = env.agent.ok(SUBMIT_SUGGESTED, report.clone()).await;
    let suggested = &taken["submitComplaint"]["possibleDuplicates"];
    assert_eq!(ids(suggested), [near.clone(), far.clone()], "{taken}");
    let filed = env.citizen.ok(SUBMIT_SUGGESTED, report).await;
    assert_eq!(filed["submitComplaint"]["possibleDuplicates"], json!([]));

    // Out of bounds, by field; nothing else happens.
    let wide = env.agent.query(STAFF, at(Some(1_500.0))).await;
    assert_eq!(error_code(&wide), Some("INVALID_INPUT"), "{wide}");
    assert_eq!(wide["errors"][0]["extensions"]["field"], "radiusMeters");
    let wide = env.citizen.query(PUBLIC, at(Some(300.0))).await;
    assert_eq!(
        wide["errors"][0]["extensions"]["field"], "radiusMeters",
        "{wide}"
    );
    let zero = json!({"near": {"latitude": HERE.0, "longitude": HERE.1, "radiusMeters": 0}});
    let body = env.agent.query(LIST, json!({"filter": zero})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "filter.near.radiusMeters",
        "{body}"
    );
    env.finish().await;
}

// The same circles and boxes asked of both stores
// give the same cases, and the ones the haversine says.

const LOSARI: (f64, f64) = (-5.1436, 119.4075);
const SUBMIT_AT: &str = "mutation($input: SubmitComplaintInput!) { \
    submitComplaint(input: $input) { id position } }";
const LIST_TITLES: &str = "query($f: ComplaintFilter, $min: Int) { complaints(filter: $f, \
    first: 100, minPosition: $min) { totalCount edges { node { title } } } }";

fn titled_at(lat: f64, lon: f64, title: &str) -> Value {
    report_with(json!({"title": title, "location": {
        "latitude": lat, "longitude": lon, "kecamatan": "MAKASSAR", "kelurahan": "Maradekaya"
    }}))
}

/// A deterministic scatter of points around Losari (about 3 km across).
fn scatter(n: usize) -> Vec<(f64, f64)> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 10_000) as f64 / 10_000.0 - 0.5
    };
    (0..n)
        .map(|_| (LOSARI.0 + next() * 0.03, LOSARI.1 + next() * 0.03))
        .collect()
}

async fn answers(backend: Backend, points: &[(f64, f64)], filters: &[Value]) -> Vec<Vec<String>> {
    let env = Env::start(backend).await;
    let mut position = 0;
    for (i, (lat, lon)) in points.iter().enumerate() {
        let input = titled_at(*lat, *lon, &format!("r{i:03}"));
        let data = env.agent.ok(SUBMIT_AT, json!({"input": input})).await;
        position = data["submitComplaint"]["position"].as_i64().unwrap();
    }
    let mut out = Vec::new();
    for f in filters {
        let data = env
            .agent
            .ok(LIST_TITLES, json!({"f": f, "min": position}))
            .await;
        let edges = data["complaints"]["edges"].as_array().unwrap();
        assert_eq!(data["complaints"]["totalCount"], json!(edges.len()));
        let mut got: Vec<String> = edges
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_string())
            .collect();
        got.sort();
        out.push(got);
    }
    env.finish().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn near_and_within_give_the_same_cases_on_both_stores() {
    let points = scatter(40);
    let circles = [(250.0, 0), (600.0, 3), (1_200.0, 7)];
    let mut filters: Vec<Value> = circles
        .iter()
        .map(|(r, i)| {
            let (lat, lon) = points[*i];
            json!({"near": {"latitude": lat, "longitude": lon, "radiusMeters": r}})
        })
        .collect();
    let boxes = [
        (-5.15, 119.40, -5.14, 119.41),
        (-5.16, 119.39, -5.13, 119.42),
    ];
    filters.extend(
        boxes
            .iter()
            .map(|(s, w, n, e)| json!({"within": {"south": s, "west": w, "north": n, "east": e}})),
    );
    // What each should hold, by the same haversine the server uses.
    let mut expected: Vec<Vec<String>> = circles
        .iter()
        .map(|(r, i)| {
            let c = points[*i];
            let mut t: Vec<String> = (0..points.len())
                .filter(|j| aduan_domain::geo::distance_m(c, points[*j]) <= *r)
                .map(|j| format!("r{j:03}"))
                .collect();
            t.sort();
            t
        })
        .collect();
    expected.extend(boxes.iter().map(|(s, w, n, e)| {
        (0..points.len())
            .filter(|j| {
                let (lat, lon) = points[*j];
                (*s..=*n).contains(&lat) && (*w..=*e).contains(&lon)
            })
            .map(|j| format!("r{j:03}"))
            .collect()
    }));
    let pg = answers(Backend::Postgres, &points, &filters).await;
    let sqlite = answers(Backend::Sqlite, &points, &filters).await;
    assert_eq!(pg, sqlite);
    assert_eq!(pg, expected);
    assert!(expected.iter().all(|e| !e.is_empty()), "{expected:?}");
}
