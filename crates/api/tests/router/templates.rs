//! Response templates through the router: a supervisor's template used on a
//! case, the rendered text and the template's version in the history, a
//! retired one refused, and the list by role.

use aduan_domain::Role;
use serde_json::json;

use crate::support::*;

const CREATE: &str = "mutation($input: CreateResponseTemplateInput!) { \
    createResponseTemplate(input: $input) { id version variables } }";
const RETIRE: &str = "mutation($input: RetireResponseTemplateInput!) { \
    retireResponseTemplate(input: $input) { version retired } }";
const LIST: &str = "{ responseTemplates(includeRetired: true) { id retired } }";
const ASK: &str = "mutation($input: RequestInfoInput!) { requestInfo(input: $input) { id } }";
const HISTORY: &str =
    "query($id: ID!) { complaintHistory(id: $id) { type payload templateId templateVersion } }";

#[tokio::test]
async fn a_template_answers_a_case_until_it_is_retired() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let supervisor = Client::new(&app, Role::Supervisor, None, "supervisor-1");
    let created = supervisor
        .ok(
            CREATE,
            json!({"input": {"name": "Foto", "text": "Mohon kirim foto {detail} ({title})."}}),
        )
        .await;
    let id = created["createResponseTemplate"]["id"].clone();
    assert_eq!(created["createResponseTemplate"]["version"], 1);
    assert_eq!(
        created["createResponseTemplate"]["variables"],
        json!(["title", "detail"])
    );

    let case = cast.assigned().await;
    let ask = input(
        &case,
        json!({"templateId": id, "variables": [{"name": "detail", "value": "lubangnya"}]}),
    );
    cast.dpu_officer.ok(ASK, ask.clone()).await;
    let history = cast.agent.ok(HISTORY, json!({"id": case})).await;
    let last = history["complaintHistory"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "InfoRequested");
    assert_eq!(
        last["payload"]["question"],
        "Mohon kirim foto lubangnya (Jalan berlubang)."
    );
    assert_eq!(
        (last["templateId"].clone(), last["templateVersion"].clone()),
        (id.clone(), json!(1))
    );

    let retired = supervisor.ok(RETIRE, json!({"input": {"id": id}})).await;
    assert_eq!(retired["retireResponseTemplate"]["version"], 2);
    assert_eq!(cast.dpu_officer.error_code(ASK, ask).await, "INVALID_INPUT");
    let listed = cast.dlh_officer.ok(LIST, json!({})).await;
    assert_eq!(listed["responseTemplates"][0]["retired"], true);
    assert_eq!(cast.citizen.error_code(LIST, json!({})).await, "FORBIDDEN");
    app.finish().await;
}

#[tokio::test]
async fn a_template_command_retried_with_its_key_changes_nothing_twice() {
    let app = App::start().await;
    let supervisor = Client::new(&app, Role::Supervisor, None, "supervisor-1");
    let other = Client::new(&app, Role::Supervisor, None, "supervisor-2");
    let create = json!({"input": {"name": "Foto", "text": "Mohon foto.", "commandId": "k-create"}});
    let first = supervisor.ok(CREATE, create.clone()).await;
    let again = supervisor.ok(CREATE, create.clone()).await;
    assert_eq!(first, again, "the retry returns the first template");
    let id = first["createResponseTemplate"]["id"].clone();
    let listed = supervisor.ok(LIST, json!({})).await;
    assert_eq!(listed["responseTemplates"].as_array().unwrap().len(), 1);

    let retire = json!({"input": {"id": id, "commandId": "k-retire"}});
    let retired = supervisor.ok(RETIRE, retire.clone()).await;
    assert_eq!(supervisor.ok(RETIRE, retire.clone()).await, retired);
    assert_eq!(retired["retireResponseTemplate"]["version"], 2);
    // The same key for another command, or by someone else: refused.
    let reused = json!({"input": {"id": id, "reason": "lain", "commandId": "k-retire"}});
    assert_eq!(supervisor.error_code(RETIRE, reused).await, "INVALID_INPUT");
    assert_eq!(other.error_code(CREATE, create).await, "INVALID_INPUT");

    // Eight copies of one creation at once: one template, the same answer.
    let raced = json!({"input": {"name": "Balap", "text": "Sekali.", "commandId": "k-race"}});
    let answers =
        futures::future::join_all((0..8).map(|_| supervisor.ok(CREATE, raced.clone()))).await;
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    let listed = supervisor.ok(LIST, json!({})).await;
    assert_eq!(listed["responseTemplates"].as_array().unwrap().len(), 2);
    app.finish().await;
}
