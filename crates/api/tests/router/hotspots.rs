//! `hotspots` and `/geo/hotspots.geojson`: the same counts, the same access.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

use aduan_domain::Role;

use crate::support::*;

const HOTSPOTS: &str =
    "query($category: String, $opd: String, $resolution: Int, $by: HotspotGrouping, $min: Int) {
    hotspots(category: $category, opd: $opd, resolution: $resolution, by: $by, minPosition: $min) {
        cell resolution kelurahan kecamatan latitude longitude count openCount breachedCount } }";

async fn geojson(app: &App, token: Option<&str>, query: &str) -> Answer {
    // The default range: the last 30 days up to now.
    let mut request = Request::get(format!("/geo/hotspots.geojson?{query}"));
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

fn spots(data: &Value) -> &Vec<Value> {
    data["hotspots"].as_array().unwrap()
}

#[tokio::test]
async fn cases_are_counted_per_cell_and_kelurahan_and_served_as_geojson() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    // Two reports at one place, one garbage report 10 km north, in no kelurahan.
    for _ in 0..2 {
        cast.submitted().await;
    }
    let far = report_with(json!({
        "category": "GARBAGE",
        "location": {"latitude": -5.06, "longitude": 119.50}
    }));
    let data = cast.agent.ok(SUBMIT, json!({"input": far})).await;
    let min = returned(&data)["position"].clone();
    let supervisor = Client::new(&app, Role::Supervisor, None, "spv-1");

    let fine = supervisor
        .ok(HOTSPOTS, json!({"resolution": 9, "min": min}))
        .await;
    let cells = spots(&fine);
    assert_eq!(cells.len(), 2, "{fine}");
    assert_eq!(cells[0]["count"], 2, "most cases first: {fine}");
    assert_eq!(cells[0]["openCount"], 2);
    assert_eq!(cells[0]["breachedCount"], 0);
    assert_eq!(cells[0]["resolution"], 9);
    let cell = cells[0]["cell"].as_str().unwrap();
    assert_eq!(cell.len(), 15, "an H3 index in hex: {cell}");
    let (lat, lon) = (
        cells[0]["latitude"].as_f64().unwrap(),
        cells[0]["longitude"].as_f64().unwrap(),
    );
    assert!(
        (lat + 5.1551).abs() < 0.003 && (lon - 119.4239).abs() < 0.003,
        "the centre: {fine}"
    );
    // Coarser cells hold both places; the default resolution is 8.
    let coarse = supervisor.ok(HOTSPOTS, json!({"resolution": 5})).await;
    assert_eq!(spots(&coarse).len(), 1, "{coarse}");
    assert_eq!(spots(&coarse)[0]["count"], 3);
    let default = supervisor.ok(HOTSPOTS, json!({})).await;
    assert!(
        spots(&default).iter().all(|c| c["resolution"] == 8),
        "{default}"
    );
    let roads = supervisor
        .ok(HOTSPOTS, json!({"category": "ROAD_DAMAGE"}))
        .await;
    assert_eq!(spots(&roads).len(), 1);
    assert_eq!(spots(&roads)[0]["count"], 2);
    let by_kelurahan = supervisor.ok(HOTSPOTS, json!({"by": "KELURAHAN"})).await;
    let places = spots(&by_kelurahan);
    assert_eq!(
        places.len(),
        1,
        "the far report has no kelurahan: {by_kelurahan}"
    );
    assert_eq!(places[0]["kelurahan"], "73.71.03.1003");
    assert_eq!(places[0]["kecamatan"], "MAKASSAR");
    assert_eq!(places[0]["count"], 2);
    assert_eq!(places[0]["cell"], Value::Null);

    // The same counts as GeoJSON.
    let token = app.token(Role::Supervisor, None, "spv-1");
    let answer = geojson(&app, Some(&token), "resolution=9").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.content_type.as_deref(), Some("application/geo+json"));
    let doc = &answer.body;
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), 2, "{doc}");
    let first = &features[0];
    assert_eq!(first["type"], "Feature");
    assert_eq!(first["id"], cell);
    assert_eq!(first["properties"]["count"], 2);
    assert_eq!(first["properties"]["openCount"], 2);
    assert_eq!(first["properties"]["cell"], cell);
    assert_eq!(first["geometry"]["type"], "Polygon");
    let ring = first["geometry"]["coordinates"][0].as_array().unwrap();
    assert_eq!(ring.len(), 7, "a hexagon, closed: {ring:?}");
    assert_eq!(ring.first(), ring.last());
    assert!(
        ring.iter().all(|p| p[0].as_f64().unwrap() > 119.0),
        "[longitude, latitude]"
    );
    let points = geojson(&app, Some(&token), "by=kelurahan").await;
    assert_eq!(points.status, StatusCode::OK, "{}", points.body);
    let point = &points.body["features"][0]["geometry"];
    assert_eq!(point["type"], "Point", "{}", points.body);
    app.finish().await;
}

#[tokio::test]
async fn the_geojson_route_is_read_as_the_query_is() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let id = cast.assigned().await; // DPU's
    let data = cast.agent.ok(COMPLAINT, json!({"id": id})).await;
    assert_eq!(data["complaint"]["id"], json!(id));
    let dpu_admin = app.token(Role::OpdAdmin, Some("DPU"), "admin-dpu");
    let dlh_admin = app.token(Role::OpdAdmin, Some("DLH"), "admin-dlh");
    let officer = app.token(Role::OpdOfficer, Some("DPU"), "petugas-dpu");
    let analyst = app.token(Role::Analyst, None, "analis-1");
    // Each answer's count of cases (the projection catches up first).
    let mut counted = None;
    for _ in 0..50 {
        let answer = geojson(&app, Some(&analyst), "").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        if answer.body["features"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
        {
            counted = Some(answer.body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(counted.unwrap()["features"][0]["properties"]["count"], 1);
    let own = geojson(&app, Some(&dpu_admin), "").await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["features"].as_array().unwrap().len(), 1);
    let other = geojson(&app, Some(&dlh_admin), "").await;
    assert_eq!(other.status, StatusCode::OK, "its own OPD's: none");
    assert!(other.body["features"].as_array().unwrap().is_empty());
    let refusals = [
        (None, "", StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None),
        (Some(&officer), "", StatusCode::FORBIDDEN, "FORBIDDEN", None),
        (
            Some(&dlh_admin),
            "opd=DPU",
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            None,
        ),
        (
            Some(&analyst),
            "resolution=4",
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            Some("resolution"),
        ),
        (
            Some(&analyst),
            "resolution=x",
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            Some("resolution"),
        ),
        (
            Some(&analyst),
            "category=NOPE",
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            Some("category"),
        ),
        (
            Some(&analyst),
            "by=street",
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            Some("by"),
        ),
    ];
    for (token, query, status, code, field) in refusals {
        let answer = geojson(&app, token.map(String::as_str), query).await;
        assert_eq!(answer.status, status, "{query}: {}", answer.body);
        assert_eq!(
            error_code(&answer.body),
            Some(code),
            "{query}: {}",
            answer.body
        );
        if let Some(field) = field {
            assert_eq!(answer.body["errors"][0]["extensions"]["field"], field);
        }
    }
    let late = app
        .send(
            Request::get("/geo/hotspots.geojson?from=yesterday")
                .header(header::AUTHORIZATION, format!("Bearer {analyst}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(late.body["errors"][0]["extensions"]["field"], "from");
    app.finish().await;
}
