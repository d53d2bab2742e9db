//! `/geo/hotspots.geojson`: the `hotspots` query as an RFC 7946
//! FeatureCollection that MapLibre and Leaflet read directly. The request runs
//! the GraphQL resolver itself (with the caller's bearer token), so the access
//! rules, defaults and refusals are the query's; refusals come back as
//! GraphQL-shaped errors with their HTTP status.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use aduan_domain::geo;

use crate::error_code::ClientCode;
use crate::graphql::{ClientKey, Correlation, RequestAuth};
use crate::state::AppState;

pub const CONTENT_TYPE: &str = "application/geo+json";

const QUERY: &str = "query($category: String, $opd: String, $from: DateTime, $to: DateTime, \
     $resolution: Int, $by: HotspotGrouping) { hotspots(category: $category, opd: $opd, \
     from: $from, to: $to, resolution: $resolution, by: $by) { cell resolution kelurahan \
     kecamatan latitude longitude count openCount breachedCount } }";

/// A parameter refused before the query runs: its name and why.
type Refused = (&'static str, &'static str);

/// The query string as the query's variables: times and numbers are checked
/// here so that a malformed one is refused by its name.
fn variables(params: &HashMap<String, String>) -> Result<Value, Refused> {
    let mut vars = json!({});
    for name in ["category", "opd"] {
        if let Some(v) = params.get(name).filter(|v| !v.is_empty()) {
            vars[name] = json!(v);
        }
    }
    for name in ["from", "to"] {
        if let Some(v) = params.get(name).filter(|v| !v.is_empty()) {
            if chrono::DateTime::parse_from_rfc3339(v).is_err() {
                return Err((name, "must be an RFC 3339 time (2026-01-01T00:00:00Z)"));
            }
            vars[name] = json!(v);
        }
    }
    if let Some(v) = params.get("resolution").filter(|v| !v.is_empty()) {
        let Ok(n) = v.parse::<i32>() else {
            return Err(("resolution", "must be between 5 and 9"));
        };
        vars["resolution"] = json!(n);
    }
    if let Some(v) = params.get("by").filter(|v| !v.is_empty()) {
        let by = v.to_ascii_uppercase();
        if by != "CELL" && by != "KELURAHAN" {
            return Err(("by", "must be cell or kelurahan"));
        }
        vars["by"] = json!(by);
    }
    Ok(vars)
}

pub async fn hotspots(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let vars = match variables(&params) {
        Ok(vars) => vars,
        Err((field, message)) => {
            let code = ClientCode::InvalidInput;
            return (code.http_status(), Json(code.body(message, Some(field)))).into_response();
        }
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let auth = state.keys.actor_from_header(token).await;
    let request = async_graphql::Request::new(QUERY)
        .variables(async_graphql::Variables::from_json(vars))
        .data(RequestAuth(auth))
        .data(ClientKey(String::new()))
        .data(Correlation(uuid::Uuid::new_v4().to_string()))
        .data(crate::graphql::replicas::ReadChoice::default());
    let mut executed = state.schema.execute(request).await;
    crate::graphql::limits::code_engine_errors(&mut executed);
    if let Some(first) = executed.errors.first() {
        let code = ClientCode::of(first.extensions.as_ref()).unwrap_or(ClientCode::Internal);
        let errors = serde_json::to_value(&executed.errors).unwrap_or(Value::Null);
        return (code.http_status(), Json(json!({ "errors": errors }))).into_response();
    }
    let data = executed.data.into_json().unwrap_or(Value::Null);
    let features: Vec<Value> = data["hotspots"]
        .as_array()
        .map(|spots| spots.iter().map(feature).collect())
        .unwrap_or_default();
    let body = json!({"type": "FeatureCollection", "features": features});
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// One hotspot: its cell's outline, or a point for a kelurahan (the city has
/// no kelurahan outlines); the counts as properties.
fn feature(spot: &Value) -> Value {
    let cell = spot["cell"]
        .as_str()
        .and_then(|c| i64::from_str_radix(c, 16).ok());
    let geometry = match cell {
        Some(cell) => json!({"type": "Polygon", "coordinates": [ring(&geo::outline(cell))]}),
        None => json!({"type": "Point", "coordinates": [spot["longitude"], spot["latitude"]]}),
    };
    let mut properties = spot.clone();
    if let Some(p) = properties.as_object_mut() {
        p.retain(|_, v| !v.is_null());
    }
    let id = spot["cell"].as_str().or(spot["kelurahan"].as_str());
    json!({"type": "Feature", "id": id, "geometry": geometry, "properties": properties})
}

/// A linear ring as RFC 7946 wants it: [longitude, latitude] positions, the
/// first repeated last, counter-clockwise (the exterior of a polygon).
fn ring(outline: &[(f64, f64)]) -> Vec<[f64; 2]> {
    let mut points: Vec<[f64; 2]> = outline.iter().map(|&(lat, lon)| [lon, lat]).collect();
    // The shoelace formula: positive area is counter-clockwise.
    let twice_area: f64 = points
        .iter()
        .zip(points.iter().cycle().skip(1))
        .map(|(a, b)| a[0] * b[1] - b[0] * a[1])
        .sum();
    if twice_area < 0.0 {
        points.reverse();
    }
    if let Some(&first) = points.first() {
        points.push(first);
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_is_closed_and_counter_clockwise_in_longitude_latitude() {
        let cell = geo::cell(-5.1477, 119.4327).unwrap();
        let outline = geo::outline(cell);
        for given in [outline.clone(), outline.iter().rev().copied().collect()] {
            let r = ring(&given);
            assert_eq!(r.len(), given.len() + 1);
            assert_eq!(r.first(), r.last(), "closed");
            assert!(r.iter().all(|p| p[0] > 119.0 && p[1] < -5.0), "[lon, lat]");
            let twice_area: f64 = r
                .windows(2)
                .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
                .sum();
            assert!(twice_area > 0.0, "counter-clockwise");
        }
    }
}
