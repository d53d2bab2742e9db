//! Hand-offs through the real server, on both stores (issue 25): a case
//! bouncing DPU -> DLH -> DPU is escalated once, a bad reason code is refused
//! with nothing stored, and a return puts the case back in the dispatch queue.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(
    a_case_bouncing_dpu_dlh_dpu_is_escalated_once,
    a_bad_reason_code_is_refused_and_nothing_is_stored,
    handoff_figures_match_a_count_by_hand,
);

fn transfer(id: &str, to: &str, code: &str) -> Value {
    input(
        id,
        json!({"toOpd": to, "reasonCode": code, "note": "Bukan kewenangan kami"}),
    )
}

fn escalations(history: &[Value]) -> Vec<&Value> {
    history
        .iter()
        .filter(|e| e["type"] == "Escalated")
        .collect()
}

async fn a_case_bouncing_dpu_dlh_dpu_is_escalated_once(backend: Backend) {
    let env = Env::start(backend).await;
    let dlh_admin = env.client("OPD_ADMIN", Some("DLH"), "admin-dlh").await;
    let id = env.assigned().await;
    env.dpu_admin
        .ok(MUTATE_TRANSFER, transfer(&id, "DLH", "BUKAN_WEWENANG"))
        .await;
    assert!(escalations(&env.history(&id).await).is_empty());
    let back = dlh_admin
        .ok(MUTATE_TRANSFER, transfer(&id, "DPU", "SALAH_KATEGORI"))
        .await;
    assert_eq!(returned(&back)["opd"], "DPU");
    let history = env.history(&id).await;
    let found = escalations(&history);
    assert_eq!(found.len(), 1, "{history:?}");
    let escalated = found[0];
    assert_eq!(escalated["payload"]["level"], 1);
    assert_eq!(
        escalated["role"], "OPD_ADMIN",
        "recorded with the transfer's command"
    );
    let loop_ = &escalated["payload"]["handoff_loop"];
    assert_eq!(loop_["revisited"], "DPU");
    assert_eq!(loop_["holders"], json!(["DPU", "DLH", "DPU"]));
    assert_eq!(loop_["over_limit"], false);
    // The transfer and its escalation share one command (one append).
    let last_transfer = history
        .iter()
        .rfind(|e| e["type"] == "Transferred")
        .unwrap();
    assert_eq!(last_transfer["payload"]["reason_code"], "SALAH_KATEGORI");
    assert_eq!(last_transfer["correlationId"], escalated["correlationId"]);

    // DPU returns it to the Command Center: the third hand-off goes over the
    // limit (2), escalated once more; the DPU/DLH loop is not escalated again.
    let back = env
        .dpu_officer
        .ok(
            MUTATE_RETURN,
            input(&id, json!({"reasonCode": "PERLU_KOORDINASI"})),
        )
        .await;
    let case = returned(&back);
    assert_eq!(
        (&case["status"], &case["opd"]),
        (&json!("VERIFIED"), &Value::Null)
    );
    let history = env.history(&id).await;
    let found = escalations(&history);
    assert_eq!(found.len(), 2, "{history:?}");
    assert_eq!(found[1]["payload"]["handoff_loop"]["over_limit"], true);
    assert!(found[1]["payload"]["handoff_loop"]["revisited"].is_null());
    // Dispatched to DLH again: the same DPU/DLH loop, no third escalation.
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DLH"})))
        .await;
    assert_eq!(escalations(&env.history(&id).await).len(), 2);
    let current = env.current(&id).await;
    assert_eq!(current["opd"], "DLH");
    env.finish().await;
}

async fn a_bad_reason_code_is_refused_and_nothing_is_stored(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    for code in ["TIDAK_ADA", "bukan wewenang"] {
        let body = env
            .refused(
                &id,
                &env.dpu_admin,
                MUTATE_TRANSFER,
                transfer(&id, "DLH", code),
                "INVALID_INPUT",
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "reasonCode");
        env.refused(
            &id,
            &env.dpu_officer,
            MUTATE_RETURN,
            input(&id, json!({"reasonCode": code})),
            "INVALID_INPUT",
        )
        .await;
    }
    // Without a code at all: GraphQL refuses the input itself.
    let body = env
        .dpu_admin
        .query(MUTATE_TRANSFER, input(&id, json!({"toOpd": "DLH"})))
        .await;
    assert!(body["errors"].is_array(), "{body}");
    assert_eq!(env.current(&id).await["opd"], "DPU");
    env.finish().await;
}

const HANDOFFS: &str = "query($opd: String, $from: DateTime!, $to: DateTime!, $min: Int) { \
    handoffs(opd: $opd, from: $from, to: $to, minPosition: $min) { opd pairs { fromHolder \
    toHolder transfers returns loops heldP50Seconds heldP90Seconds resolvedByLastHolder } } }";

/// Three cases: 1 goes DPU -> DLH -> DPU (a loop) and DPU resolves it; 2 goes
/// DPU -> DLH and DLH returns it to the Command Center; 3 goes DPU -> DLH and
/// DLH resolves it. By hand: DPU -> DLH 3 transfers, 2 of 3 cases resolved;
/// DLH -> DPU 1 transfer, 1 loop, resolved; DLH -> COMMAND_CENTER 1 return,
/// not resolved. Dispatches are no hand-offs.
async fn handoff_figures_match_a_count_by_hand(backend: Backend) {
    let env = Env::start(backend).await;
    let dlh_admin = env.client("OPD_ADMIN", Some("DLH"), "admin-dlh").await;
    let resolve = json!({"resolution": "RESOLVED", "summary": "Selesai."});
    let mut last = 0;
    let mut note = |data: &Value| last = last.max(returned(data)["position"].as_i64().unwrap());
    let mut cases = Vec::new();
    for _ in 0..3 {
        let id = env.assigned().await;
        let data = env
            .dpu_admin
            .ok(MUTATE_TRANSFER, transfer(&id, "DLH", "BUKAN_WEWENANG"))
            .await;
        note(&data);
        cases.push(id);
    }
    note(
        &dlh_admin
            .ok(
                MUTATE_TRANSFER,
                transfer(&cases[0], "DPU", "SALAH_KATEGORI"),
            )
            .await,
    );
    note(
        &env.dpu_officer
            .ok(MUTATE_CLOSE, input(&cases[0], resolve.clone()))
            .await,
    );
    let back = input(&cases[1], json!({"reasonCode": "LOKASI_DI_LUAR_WILAYAH"}));
    note(&dlh_admin.ok(MUTATE_RETURN, back).await);
    note(
        &env.dlh_officer
            .ok(MUTATE_CLOSE, input(&cases[2], resolve))
            .await,
    );

    let now = chrono::Utc::now();
    let window = |opd: Option<&str>| {
        json!({"opd": opd, "from": (now - chrono::Duration::days(1)).to_rfc3339(),
               "to": (now + chrono::Duration::days(1)).to_rfc3339(), "min": last})
    };
    let data = env.supervisor.ok(HANDOFFS, window(None)).await;
    let pairs = data["handoffs"]["pairs"].as_array().unwrap();
    let counted: Vec<(String, String, i64, i64, i64, f64)> = pairs
        .iter()
        .map(|p| {
            let (p50, p90) = (&p["heldP50Seconds"], &p["heldP90Seconds"]);
            assert!(p50.as_f64().unwrap() <= p90.as_f64().unwrap(), "{p}");
            (
                p["fromHolder"].as_str().unwrap().to_string(),
                p["toHolder"].as_str().unwrap().to_string(),
                p["transfers"].as_i64().unwrap(),
                p["returns"].as_i64().unwrap(),
                p["loops"].as_i64().unwrap(),
                p["resolvedByLastHolder"].as_f64().unwrap(),
            )
        })
        .collect();
    let pair =
        |f: &str, t: &str, tr, re, lo, share| (f.to_string(), t.to_string(), tr, re, lo, share);
    assert_eq!(
        counted,
        [
            pair("DLH", "COMMAND_CENTER", 0, 1, 0, 0.0),
            pair("DLH", "DPU", 1, 0, 1, 1.0),
            pair("DPU", "DLH", 3, 0, 0, 2.0 / 3.0),
        ]
    );
    // An OPD's administrator reads the pairs its OPD is in, and only its own.
    let dishub = env
        .client("OPD_ADMIN", Some("DISHUB"), "admin-dishub")
        .await;
    let own = dishub.ok(HANDOFFS, window(None)).await;
    assert_eq!(own["handoffs"]["opd"], "DISHUB");
    assert_eq!(own["handoffs"]["pairs"], json!([]));
    let body = dishub.query(HANDOFFS, window(Some("DPU"))).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = env.citizen.query(HANDOFFS, window(None)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    env.finish().await;
}
