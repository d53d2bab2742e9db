//! Personal data stays out of the server's log: a scenario with a reporter's
//! name, phone, e-mail and home address (accepted, refused and read back), with
//! the server logging at debug level, and then a search of everything it printed.

use serde_json::json;

use crate::support::*;

on_both_stores!(personal_data_never_reaches_the_log);

const NAME: &str = "Siti Nurhaliza Daeng";
const PHONE: &str = "+62 812 7777 4321";
const EMAIL: &str = "siti.daeng@contoh.id";
const ADDRESS: &str = "Jl. Rahasia Nomor 77";

async fn personal_data_never_reaches_the_log(backend: Backend) {
    let env = Env::start_with(backend, &[("ADUAN_LOG", "debug")]).await;
    let mut sent = report();
    sent["reporter"] = json!({"name": NAME, "phone": PHONE, "email": EMAIL});
    sent["location"]["address"] = json!(ADDRESS);
    let id = id_of(&env.citizen.ok(SUBMIT, json!({"input": sent.clone()})).await);
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    // Read back by everyone, allowed or not.
    for client in [&env.auditor, &env.agent, &env.dpu_officer, &env.dlh_officer] {
        client.query(COMPLAINT, json!({"id": id})).await;
        client.query(HISTORY, json!({"id": id})).await;
    }
    // Refused submissions that carry the same data.
    let mut bad = sent.clone();
    bad["reporter"]["email"] = json!(format!("{EMAIL} not an address"));
    env.citizen.query(SUBMIT, json!({"input": bad})).await;
    let mut bad = sent.clone();
    bad["title"] = json!("");
    env.citizen.query(SUBMIT, json!({"input": bad})).await;
    let stranger = env.client("CITIZEN", None, "warga-lain").await;
    stranger.query(COMPLAINT, json!({"id": id})).await;

    let log = env.server.log();
    assert!(log.contains("DEBUG"), "debug logging was on");
    for secret in [NAME, PHONE, EMAIL, ADDRESS, "7777 4321", "siti.daeng"] {
        assert!(
            !log.contains(secret),
            "{secret:?} reached the server log:\n{}",
            log.lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    env.finish().await;
}
