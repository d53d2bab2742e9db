//! The hotspot map (`hotspots`, `/geo/hotspots.geojson`) on the real server:
//! counts per cell as cases are filed, rejected and breach their deadline,
//! and a GeoJSON document that libraries knowing nothing of aduan accept
//! (Python's `geojson` and `shapely`: scripts/ensure-python-clients).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::support::*;

on_both_stores!(the_map_counts_each_cell_and_its_geojson_validates);

const HOTSPOTS: &str = "query($resolution: Int, $category: String, $min: Int) { \
    hotspots(resolution: $resolution, category: $category, minPosition: $min) { \
      cell resolution latitude longitude count openCount breachedCount } }";

/// The city's box as reference.toml ships it (south west north east).
const CITY: [&str; 4] = ["-5.25", "119.05", "-4.95", "119.56"];

/// Runs the checker on `document`: whether it accepted it, and what it said.
async fn check(document: &str) -> (bool, String) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/e2e/fixtures/geojson/check.py"
    );
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .args(CITY)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (scripts/ensure-python-clients installs geojson and shapely)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(document.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !said.contains("ModuleNotFoundError"),
        "run scripts/ensure-python-clients: {said}"
    );
    (out.status.success(), said)
}

/// The first feature's exterior ring.
fn ring(d: &mut Value) -> &mut Vec<Value> {
    d["features"][0]["geometry"]["coordinates"][0]
        .as_array_mut()
        .unwrap()
}

async fn geojson(env: &Env, token: &str, query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!(
            "{}/geo/hotspots.geojson?{query}",
            env.server.base_url
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn cells(data: &Value) -> Vec<Value> {
    data["hotspots"].as_array().unwrap().clone()
}

async fn the_map_counts_each_cell_and_its_geojson_validates(backend: Backend) {
    // Dispatch within a minute, so that breaches come while the test waits.
    let shipped = include_str!("../../config/sla.toml");
    let minute = shipped.replace(
        "dispatch = { amount = 3, unit = \"working_days\" }",
        "dispatch = { amount = 1, unit = \"calendar_minutes\" }",
    );
    assert_ne!(
        minute, shipped,
        "the default dispatch target moved in config/sla.toml"
    );
    let path =
        std::env::temp_dir().join(format!("aduan-sla-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, minute).unwrap();
    let env = Env::start_with(backend, &[("ADUAN_SLA_CONFIG", path.to_str().unwrap())]).await;
    let filed = Instant::now();
    // Three road reports and a garbage report at one place; a road report
    // 2 km east; one of the first three is rejected (not open, no breach).
    let at = |lat: f64, lon: f64, category: &str| {
        // The first place lies in kelurahan Maradekaya; the second in none given.
        let kelurahan = (lat == -5.1551).then_some("Maradekaya");
        report_with(json!({
            "category": category,
            "location": {"latitude": lat, "longitude": lon, "kelurahan": kelurahan}
        }))
    };
    let mut ids = Vec::new();
    for report in [
        at(-5.1551, 119.4239, "ROAD_DAMAGE"),
        at(-5.1551, 119.4239, "ROAD_DAMAGE"),
        at(-5.1551, 119.4239, "ROAD_DAMAGE"),
        at(-5.1551, 119.4239, "GARBAGE"),
        at(-5.1500, 119.4420, "ROAD_DAMAGE"),
    ] {
        ids.push(id_of(&env.agent.ok(SUBMIT, json!({"input": report})).await));
    }
    let data = env
        .agent
        .ok(MUTATE_REJECT, input(&ids[0], json!({"reason": "SPAM"})))
        .await;
    let min = returned(&data)["position"].clone();
    let analyst = env.analyst().await;
    let data = analyst
        .ok(HOTSPOTS, json!({"resolution": 9, "min": min}))
        .await;
    let spots = cells(&data);
    assert_eq!(spots.len(), 2, "{data}");
    assert_eq!(
        (
            &spots[0]["count"],
            &spots[0]["openCount"],
            &spots[0]["breachedCount"]
        ),
        (&json!(4), &json!(3), &json!(0)),
        "{data}"
    );
    assert_eq!(spots[1]["count"], 1);
    let roads = analyst
        .ok(
            HOTSPOTS,
            json!({"resolution": 9, "category": "ROAD_DAMAGE"}),
        )
        .await;
    assert_eq!(cells(&roads)[0]["count"], 3, "{roads}");

    // The document: valid, and the checker does fail on broken ones.
    let answer = geojson(&env, &analyst.token, "resolution=9").await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["content-type"].to_str().unwrap(),
        "application/geo+json"
    );
    let text = answer.text().await.unwrap();
    let (valid, said) = check(&text).await;
    assert!(valid, "{said}\n{text}");
    assert_eq!(said.trim(), r#"{"Polygon": 2}"#);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut clockwise = doc.clone();
    ring(&mut clockwise).reverse();
    let mut unclosed = doc.clone();
    ring(&mut unclosed).pop();
    let mut swapped = doc.clone();
    for p in ring(&mut swapped).iter_mut() {
        p.as_array_mut().unwrap().reverse();
    }
    for (broken, why) in [
        (clockwise, "clockwise"),
        (unclosed, "not closed"),
        (swapped, "outside the box"),
    ] {
        let (valid, said) = check(&broken.to_string()).await;
        assert!(!valid && said.contains(why), "{why}: {said}");
    }
    let kelurahan = geojson(&env, &analyst.token, "by=kelurahan").await;
    let (valid, said) = check(&kelurahan.text().await.unwrap()).await;
    assert!(valid, "{said}");
    assert_eq!(said.trim(), r#"{"Point": 1}"#);

    // Past the minute, every open case's dispatch clock is breached.
    let mut seen = Value::Null;
    while filed.elapsed() < Duration::from_secs(100) {
        seen = analyst.ok(HOTSPOTS, json!({"resolution": 9})).await;
        let spots = cells(&seen);
        if spots[0]["breachedCount"] == 3 && spots[1]["breachedCount"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    let spots = cells(&seen);
    assert_eq!(
        spots[0]["breachedCount"], 3,
        "the rejected case is not: {seen}"
    );
    assert_eq!(spots[1]["breachedCount"], 1, "{seen}");
    let text = geojson(&env, &analyst.token, "resolution=9")
        .await
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        doc["features"][0]["properties"]["breachedCount"], 3,
        "{doc}"
    );
    assert_eq!(doc["features"][0]["properties"]["openCount"], 3, "{doc}");
    // An officer reads no map; nor does a request without a token.
    let officer = geojson(&env, &env.dpu_officer.token, "").await;
    assert_eq!(officer.status(), 403);
    let nobody = reqwest::get(format!("{}/geo/hotspots.geojson", env.server.base_url))
        .await
        .unwrap();
    assert_eq!(nobody.status(), 401);
    env.finish().await;
}
