//! Response templates: versioned streams of their own in the event log,
//! managed by a SUPERVISOR or an OPD's administrator for their own OPD; used
//! on a case, the event keeps the rendered text and the template's id and
//! version; a retired template, another OPD's, or a text beside a template is
//! refused and appends nothing; the followers pass template events by.

use serde_json::{json, Value};

use aduan_testkit::GraphqlClient;

use crate::support::*;

on_both_stores!(
    templates_are_versioned_streams_each_opd_manages_its_own,
    a_response_from_a_template_records_what_the_citizen_read,
);

const CREATE: &str = "mutation($input: CreateResponseTemplateInput!) { createResponseTemplate(input: $input) { id version name opd category text variables autoAcknowledge retired } }";
const REVISE: &str = "mutation($input: ReviseResponseTemplateInput!) { reviseResponseTemplate(input: $input) { id version name text retired } }";
const RETIRE: &str = "mutation($input: RetireResponseTemplateInput!) { retireResponseTemplate(input: $input) { id version retired } }";
const LIST: &str = "query($opd: String, $category: String, $retired: Boolean! = false) { responseTemplates(opd: $opd, category: $category, includeRetired: $retired) { id version name opd category retired } }";
const RESPOND: &str = "mutation($input: RespondToComplaintInput!) { respondToComplaint(input: $input) { id version } }";
const NOTE: &str = "mutation($input: AddNoteInput!) { addNote(input: $input) { id notes(newestFirst: true, first: 1) { text templateId templateVersion } } }";
const HISTORY_TEMPLATES: &str =
    "query($id: ID!) { complaintHistory(id: $id) { type payload templateId templateVersion } }";

const ANSWER: &str = "Laporan \"{title}\" ditangani {opd}. Petugas {officer} datang {date}.";

async fn create(client: &GraphqlClient, fields: Value) -> Value {
    client.ok(CREATE, json!({"input": fields})).await["createResponseTemplate"].clone()
}

async fn template_events(env: &Env, id: &str) -> i64 {
    env.store
        .scalar(&format!(
            "SELECT count(*) FROM events WHERE aggregate_type = 'ResponseTemplate' \
             AND aggregate_id = '{id}'"
        ))
        .await
}

async fn templates_are_versioned_streams_each_opd_manages_its_own(backend: Backend) {
    let env = Env::start(backend).await;
    let dlh_admin = env.client("OPD_ADMIN", Some("DLH"), "dlh-admin").await;
    let city = create(
        &env.supervisor,
        json!({"name": "Jalan rusak diterima", "category": "ROAD_DAMAGE", "text": "Laporan {number} diterima."}),
    )
    .await;
    let id = city["id"].as_str().unwrap().to_string();
    assert_eq!(city["version"], 1);
    assert_eq!(city["opd"], Value::Null);
    assert_eq!(city["variables"], json!(["number"]));
    let revised = env
        .supervisor
        .ok(
            REVISE,
            json!({"input": {"id": id, "name": "Jalan rusak", "text": ANSWER}}),
        )
        .await["reviseResponseTemplate"]
        .clone();
    assert_eq!(
        (revised["version"].clone(), revised["text"].clone()),
        (json!(2), json!(ANSWER))
    );
    assert_eq!(template_events(&env, &id).await, 2);

    // An OPD's administrator: their own OPD's templates, not another's, not the city's.
    let own = create(
        &env.dpu_admin,
        json!({"name": "DPU", "opd": "DPU", "text": "Ditangani {opd}."}),
    )
    .await;
    let own_id = own["id"].as_str().unwrap().to_string();
    for (client, document, variables) in [
        (
            &env.dpu_admin,
            CREATE,
            json!({"input": {"name": "x", "opd": "DLH", "text": "x"}}),
        ),
        (
            &env.dpu_admin,
            CREATE,
            json!({"input": {"name": "x", "text": "x"}}),
        ),
        (&dlh_admin, RETIRE, json!({"input": {"id": own_id}})),
        (
            &env.dpu_admin,
            REVISE,
            json!({"input": {"id": id, "name": "x", "text": "x"}}),
        ),
        (
            &env.dpu_officer,
            CREATE,
            json!({"input": {"name": "x", "opd": "DPU", "text": "x"}}),
        ),
    ] {
        let body = client.query(document, variables).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    }
    assert_eq!(template_events(&env, &own_id).await, 1);
    assert_eq!(template_events(&env, &id).await, 2);

    // Broken texts are refused when written.
    for text in ["Di {kelurhan}", "Kode {trackingCode}", "Halo {opd", "  "] {
        let body = env
            .supervisor
            .query(CREATE, json!({"input": {"name": "x", "text": text}}))
            .await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{text}: {body}");
    }

    // Retired: listed only on request, never revised again.
    let retired = env
        .dpu_admin
        .ok(RETIRE, json!({"input": {"id": own_id, "reason": "usang"}}))
        .await["retireResponseTemplate"]
        .clone();
    assert_eq!(
        (retired["version"].clone(), retired["retired"].clone()),
        (json!(2), json!(true))
    );
    let body = env
        .dpu_admin
        .query(
            REVISE,
            json!({"input": {"id": own_id, "name": "x", "text": "x"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    let listed = env
        .dpu_officer
        .ok(LIST, json!({"category": "ROAD_DAMAGE"}))
        .await;
    let names: Vec<&str> = listed["responseTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Jalan rusak"]);
    let all = env.dpu_officer.ok(LIST, json!({"retired": true})).await;
    assert_eq!(all["responseTemplates"].as_array().unwrap().len(), 2);
    let seen = env.dlh_officer.ok(LIST, json!({"retired": true})).await;
    assert_eq!(
        seen["responseTemplates"].as_array().unwrap().len(),
        1,
        "{seen}"
    );
    let body = env.citizen.query(LIST, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // The followers pass the template events by: a case's commands after
    // them are applied, and every projection reaches every case event.
    let case = env.assigned().await;
    caught_up(&env.store, &env.supervisor).await;
    assert_eq!(env.current(&case).await["status"], "ASSIGNED");
    env.finish().await;
}

async fn a_response_from_a_template_records_what_the_citizen_read(backend: Backend) {
    let env = Env::start(backend).await;
    let answer = create(
        &env.supervisor,
        json!({"name": "Jalan", "category": "ROAD_DAMAGE", "text": "Versi satu {officer}"}),
    )
    .await;
    let id = answer["id"].as_str().unwrap().to_string();
    env.supervisor
        .ok(
            REVISE,
            json!({"input": {"id": id, "name": "Jalan", "text": ANSWER}}),
        )
        .await;
    let dlh_only = create(
        &env.supervisor,
        json!({"name": "DLH", "opd": "DLH", "text": "x"}),
    )
    .await;
    let kelurahan = create(
        &env.supervisor,
        json!({"name": "Tempat", "text": "Di {kelurahan}."}),
    )
    .await;
    let retired = create(&env.supervisor, json!({"name": "Lama", "text": "Lama."})).await;
    env.supervisor
        .ok(RETIRE, json!({"input": {"id": retired["id"]}}))
        .await;
    let dpu = env.opd_name("DPU").await;

    let case = env.assigned().await;
    let variables =
        json!([{"name": "officer", "value": "Andi"}, {"name": "date", "value": "Kamis"}]);
    let use_template = |template: &Value, extra: Value| {
        let mut fields = json!({"templateId": template, "variables": variables});
        for (k, v) in extra.as_object().unwrap() {
            fields[k] = v.clone();
        }
        input(&case, fields)
    };
    for (template, extra, code) in [
        (
            json!(id),
            json!({"message": "Teks sendiri"}),
            "INVALID_INPUT",
        ),
        (json!(dlh_only["id"]), json!({}), "NOT_FOUND"),
        (retired["id"].clone(), json!({}), "INVALID_INPUT"),
        (json!("no-such-template"), json!({}), "NOT_FOUND"),
    ] {
        env.refused(
            &case,
            &env.dpu_officer,
            RESPOND,
            use_template(&template, extra),
            code,
        )
        .await;
    }
    let missing = input(
        &case,
        json!({"templateId": id, "variables": [{"name": "officer", "value": "Andi"}]}),
    );
    env.refused(&case, &env.dpu_officer, RESPOND, missing, "INVALID_INPUT")
        .await;

    env.dpu_officer
        .ok(RESPOND, use_template(&json!(id), json!({})))
        .await;
    let history = env.auditor.ok(HISTORY_TEMPLATES, json!({"id": case})).await;
    let last = history["complaintHistory"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "Responded");
    assert_eq!(
        last["payload"]["message"],
        format!("Laporan \"Jalan berlubang\" ditangani {dpu}. Petugas Andi datang Kamis.")
    );
    assert_eq!(
        (last["templateId"].clone(), last["templateVersion"].clone()),
        (json!(id), json!(2))
    );
    assert_eq!(last["payload"]["template"], json!({"id": id, "version": 2}));

    let noted = env
        .dpu_officer
        .ok(
            NOTE,
            input(
                &case,
                json!({"visibility": "PUBLIC", "templateId": kelurahan["id"]}),
            ),
        )
        .await;
    let note = &noted["addNote"]["notes"][0];
    assert!(
        note["text"].as_str().unwrap().contains("Maradekaya"),
        "{note}"
    );
    assert_eq!(
        (note["templateId"].clone(), note["templateVersion"].clone()),
        (kelurahan["id"].clone(), json!(1))
    );
    templates_verify_in_the_audit_chain(&env, &id).await;
    env.finish().await;
}

/// Template events are chained like a case's: the log verifies, and a
/// template's text changed behind the server's back is found.
async fn templates_verify_in_the_audit_chain(env: &Env, template: &str) {
    let (ok, said, err) = try_cli(&["audit", "verify"], &env.store.url).await;
    assert!(ok && said.contains("intact"), "{said}{err}");
    crate::audit::disable_immutability(&env.store).await;
    let forge = match env.store.backend {
        Backend::Postgres => {
            "jsonb_set(payload::jsonb, '{TemplateRevised,body}', '\"Palsu\"')::json"
        }
        Backend::Sqlite => "json_set(payload, '$.TemplateRevised.body', 'Palsu')",
    };
    env.store
        .exec(&format!(
            "UPDATE events SET payload = {forge} WHERE aggregate_type = 'ResponseTemplate' \
             AND aggregate_id = '{template}' AND sequence = 2"
        ))
        .await
        .unwrap();
    let (ok, said, err) = try_cli(&["audit", "verify"], &env.store.url).await;
    assert!(!ok, "a forged template text verified: {said}{err}");
}
