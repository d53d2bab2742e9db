//! A case transferred while OPD staff are subscribed: the old OPD receives its
//! events up to the transfer, the new one from the transfer on.

use serde_json::json;

use super::*;

on_both_stores!(a_transfer_moves_the_case_between_opd_subscribers);

/// The (complaint, type) of each notice on `id` until one for `sentinel`.
async fn until_sentinel(ws: &mut WsClient, id: &str, sentinel: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        let n = notice(ws, id).await;
        let pair = (
            n["complaintId"].as_str().unwrap().to_string(),
            n["type"].as_str().unwrap().to_string(),
        );
        if pair.0 == sentinel {
            return out;
        }
        out.push(pair);
    }
}

async fn a_transfer_moves_the_case_between_opd_subscribers(backend: Backend) {
    let env = Env::start(backend).await;
    let head = log_head(&env).await;
    let mut dpu = env.server.ws(Some(&env.dpu_officer.token)).await;
    let mut dlh = env.server.ws(Some(&env.dlh_officer.token)).await;
    // From the head: everything after it reaches them, live or from the log.
    dpu.subscribe("e", EVENTS, json!({"after": head})).await;
    dlh.subscribe("e", EVENTS, json!({"after": head})).await;

    let id = env.assigned().await;
    note(&env.dpu_officer, &id, "Dicek.", "INTERNAL").await;
    env.dpu_admin
        .ok(
            MUTATE_TRANSFER,
            input(
                &id,
                json!({"toOpd": "DLH", "reasonCode": "BUKAN_WEWENANG", "note": "Saluran, bukan jalan"}),
            ),
        )
        .await;
    env.dlh_officer
        .ok(
            MUTATE_RESPOND,
            input(&id, json!({"message": "Kami tangani."})),
        )
        .await;
    note(&env.dlh_officer, &id, "Dijadwalkan.", "INTERNAL").await;

    // Sentinels: a new case for each OPD after everything.
    let for_dpu = env.assigned().await;
    let for_dlh = env.verified().await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&for_dlh, json!({"opd": "DLH"})))
        .await;

    let pairs = |types: &[&str]| -> Vec<(String, String)> {
        types.iter().map(|t| (id.clone(), t.to_string())).collect()
    };
    assert_eq!(
        until_sentinel(&mut dpu, "e", &for_dpu).await,
        pairs(&["Assigned", "NoteAdded"]),
        "DPU receives its part, not the transfer or anything after"
    );
    assert_eq!(
        until_sentinel(&mut dlh, "e", &for_dlh).await,
        pairs(&["Transferred", "Responded", "NoteAdded"]),
        "DLH receives the transfer and what follows"
    );

    // complaintUpdated: DPU may no longer follow the case, DLH may.
    dpu.subscribe("u", UPDATED, json!({"id": id})).await;
    assert_eq!(error_code_of(&dpu.error("u").await), Some("FORBIDDEN"));
    dlh.subscribe("u", UPDATED, json!({"id": id, "after": head}))
        .await;
    let first = dlh.next_data("u").await["complaintUpdated"].clone();
    assert_eq!(first["opd"], "DLH", "the first change DLH may see: {first}");
    assert_eq!(first["version"], 5, "the transfer: {first}");
    env.finish().await;
}
