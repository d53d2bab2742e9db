//! A case's place corrected by the Command Center (`verifyComplaint`'s
//! `location`, `correctLocation`), and list items that find cases without a
//! call per case (`externalRef`, `anonymous`, `hasExternalRef`).

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(an_imported_case_is_placed_found_and_counted_by_kecamatan);

const LIST: &str = "query($filter: ComplaintFilter, $min: Int) { \
    complaints(filter: $filter, minPosition: $min) { totalCount \
      edges { node { id kecamatan kelurahan externalRef anonymous channel verifiedAt } } } }";

const STATS: &str = "query($from: DateTime!, $to: DateTime!, $min: Int) { \
    cityStats(from: $from, to: $to, groupBy: KECAMATAN, minPosition: $min) { key submitted } }";

async fn listed(env: &Env, filter: Value, min: &Value) -> Vec<Value> {
    let data = env
        .agent
        .ok(LIST, json!({"filter": filter, "min": min}))
        .await;
    data["complaints"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// cityStats per kecamatan: (key, submitted) for the day around now.
async fn per_kecamatan(env: &Env, min: &Value) -> Vec<(String, i64)> {
    let now = chrono::Utc::now();
    let window = json!({
        "from": (now - chrono::Duration::days(1)).to_rfc3339(),
        "to": (now + chrono::Duration::days(1)).to_rfc3339(),
        "min": min,
    });
    let data = env.agent.ok(STATS, window).await;
    let mut rows: Vec<(String, i64)> = data["cityStats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["submitted"].as_i64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn position(data: &Value) -> Value {
    returned(data)["position"].clone()
}

async fn an_imported_case_is_placed_found_and_counted_by_kecamatan(backend: Backend) {
    let env = Env::start(backend).await;
    let own = env.submit().await; // the citizen's, in MAKASSAR
                                  // As the bridge files a national case: no kecamatan, the platform's id.
    let mut report = report_with(json!({
        "channel": "NATIONAL_PLATFORM",
        "externalRef": "LAPOR-2026-0042",
        "anonymous": true,
    }));
    report["location"] = json!({"latitude": -5.12, "longitude": 119.44});
    let imported = id_of(&env.agent.ok(SUBMIT, json!({"input": report})).await);

    // Placed while verifying: the place first, then the verification.
    let placing = json!({"location": {"kecamatan": "TALLO", "kelurahan": "Kaluku Bodoa"}});
    let data = env.agent.ok(MUTATE_VERIFY, input(&imported, placing)).await;
    let min = position(&data);
    let types = env.event_types(&imported).await;
    assert_eq!(types, ["Submitted", "LocationCorrected", "Verified"]);
    let tallo = listed(&env, json!({"kecamatan": ["TALLO"]}), &min).await;
    assert_eq!(tallo.len(), 1, "{tallo:?}");
    assert_eq!(tallo[0]["id"], json!(imported));
    assert_eq!(tallo[0]["kelurahan"], "73.71.07.1003", "stored by its code");
    assert_eq!(tallo[0]["externalRef"], "LAPOR-2026-0042");
    assert_eq!(tallo[0]["anonymous"], true);
    assert_eq!(tallo[0]["channel"], "NATIONAL_PLATFORM");
    assert!(tallo[0]["verifiedAt"].is_string(), "{tallo:?}");
    assert_eq!(
        per_kecamatan(&env, &min).await,
        [("MAKASSAR".to_string(), 1), ("TALLO".to_string(), 1)]
    );

    // National cases found without a call per case, and the city's own.
    let national = listed(&env, json!({"hasExternalRef": true}), &min).await;
    assert_eq!(national.len(), 1);
    assert_eq!(national[0]["id"], json!(imported));
    let by_ref = listed(&env, json!({"externalRef": ["LAPOR-2026-0042"]}), &min).await;
    assert_eq!(by_ref, national);
    let city = listed(&env, json!({"hasExternalRef": false}), &min).await;
    assert_eq!(city.len(), 1);
    assert_eq!(city[0]["id"], json!(own));
    assert_eq!(city[0]["externalRef"], Value::Null);
    assert_eq!(city[0]["anonymous"], false);

    // Corrected later, after dispatch, with a reason.
    env.agent
        .ok(MUTATE_ASSIGN, input(&imported, json!({"opd": "DPU"})))
        .await;
    let why = "Pelapor menelepon: lokasinya di Mariso.";
    let address = "Jl. Sungai Saddang 9";
    let correction =
        json!({"location": {"kecamatan": "MARISO", "address": address}, "reason": why});
    let data = env
        .supervisor
        .ok(MUTATE_CORRECT_LOCATION, input(&imported, correction))
        .await;
    assert_eq!(returned(&data)["status"], "ASSIGNED");
    let min = position(&data);
    assert!(listed(&env, json!({"kecamatan": ["TALLO"]}), &min)
        .await
        .is_empty());
    let mariso = listed(&env, json!({"kecamatan": ["MARISO"]}), &min).await;
    assert_eq!(mariso.len(), 1);
    // Kaluku Bodoa lies in Tallo: it goes with the kecamatan.
    assert_eq!(mariso[0]["kelurahan"], Value::Null);
    assert_eq!(
        per_kecamatan(&env, &min).await,
        [("MAKASSAR".to_string(), 1), ("MARISO".to_string(), 1)]
    );
    let history = env.history(&imported).await;
    let last = history.last().unwrap();
    assert_eq!(last["type"], "LocationCorrected");
    assert_eq!(last["payload"]["reason"], why);
    assert_eq!(last["payload"]["location"]["kecamatan"], "MARISO");
    assert_eq!(last["payload"]["location"]["latitude"], -5.12);
    assert_eq!(last["payload"]["location"]["address"], address);
    // The address is personal data: sealed in the log, as a submission's is.
    let plain = env
        .store
        .scalar("SELECT count(*) FROM events WHERE CAST(payload AS TEXT) LIKE '%Saddang%'")
        .await;
    assert_eq!(plain, 0, "the corrected address is stored sealed");
    let read = env
        .agent
        .ok(
            "query($id: ID!, $min: Int) { complaint(id: $id, minPosition: $min) { location { kecamatan address } } }",
            json!({"id": imported, "min": min}),
        )
        .await;
    assert_eq!(
        read["complaint"]["location"]["kecamatan"], "MARISO",
        "{read}"
    );
    assert_eq!(read["complaint"]["location"]["address"], address, "{read}");

    refusals(&env, &imported).await;
    erased(&env, &imported).await;

    // A rebuilt summary has the same places and list fields.
    env.store.settle().await;
    run_cli(
        &["projections", "rebuild", "complaint_summary"],
        &env.store.url,
    )
    .await;
    let row = env
        .store
        .text(&format!(
            "SELECT external_ref || ' ' || kecamatan FROM complaint_summary \
             WHERE complaint_id = '{imported}'"
        ))
        .await;
    assert_eq!(row, "LAPOR-2026-0042 MARISO");
    env.finish().await;
}

/// Each refusal is typed and writes nothing.
async fn refusals(env: &Env, id: &str) {
    let correct =
        |location: Value| input(id, json!({"location": location, "reason": "Salah tempat."}));
    let body = env
        .refused(
            id,
            &env.agent,
            MUTATE_CORRECT_LOCATION,
            correct(json!({"kecamatan": "ATLANTIS"})),
            "INVALID_INPUT",
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "location.kecamatan"
    );
    let body = env
        .refused(
            id,
            &env.agent,
            MUTATE_CORRECT_LOCATION,
            correct(json!({"latitude": -5.1})),
            "INVALID_INPUT",
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "location.longitude"
    );
    env.refused(
        id,
        &env.agent,
        MUTATE_CORRECT_LOCATION,
        correct(json!({"kecamatan": "MARISO"})),
        "INVALID_TRANSITION",
    )
    .await;
    env.refused(
        id,
        &env.dpu_officer,
        MUTATE_CORRECT_LOCATION,
        correct(json!({"kecamatan": "TALLO"})),
        "FORBIDDEN",
    )
    .await;
    env.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(id, json!({"resolution": "RESOLVED", "summary": "Selesai."})),
        )
        .await;
    env.refused(
        id,
        &env.agent,
        MUTATE_CORRECT_LOCATION,
        correct(json!({"kecamatan": "TALLO"})),
        "INVALID_TRANSITION",
    )
    .await;
}

/// Erasing the reporter's data erases the corrected address too.
async fn erased(env: &Env, id: &str) {
    let read = env
        .supervisor
        .ok(
            "query($id: ID!) { complaint(id: $id) { reporterRef } }",
            json!({"id": id}),
        )
        .await;
    let reference = read["complaint"]["reporterRef"].clone();
    let erase = "mutation($input: EraseReporterDataInput!) { eraseReporterData(input: $input) { erasedNow } }";
    let reason = "Permintaan warga (UU 27/2022)";
    env.supervisor
        .ok(
            erase,
            json!({"input": {"reporterRef": reference, "reason": reason}}),
        )
        .await;
    let corrections: Vec<Value> = env
        .history(id)
        .await
        .into_iter()
        .filter(|e| e["type"] == "LocationCorrected")
        .collect();
    assert_eq!(corrections.len(), 2);
    assert_eq!(corrections[1]["payload"]["location"]["address"], "[erased]");
    assert_eq!(corrections[1]["payload"]["location"]["kecamatan"], "MARISO");
}
