//! The satisfaction survey (IKM, PermenPANRB 14/2017) through the real server:
//! reporters answer nine elements 1-4 on closed cases (by account or tracking
//! code), the refused answers change nothing, and `ikm` gives each OPD's
//! respondents, NRR per element, index and grade, as `dashboard` does beside
//! the 1-5 rating.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(the_ikm_of_an_opd_follows_the_national_method);

const SUBMIT_CODE: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id trackingCode } }";
const IKM: &str =
    "query($opd: String, $from: DateTime!, $to: DateTime!, $group: IkmGroupBy, $min: Int) { \
    ikm(opd: $opd, from: $from, to: $to, groupBy: $group, minPosition: $min) { opd \
    total { key respondents ikm grade gradeLabel elements { code name sum nrr } } \
    groups { key respondents ikm grade } } }";
const DASHBOARD: &str = "query($opd: String, $from: DateTime!, $to: DateTime!, $min: Int) { \
    dashboard(opd: $opd, from: $from, to: $to, minPosition: $min) { satisfactionIndex ratings \
    ikm { total { respondents ikm grade } } } }";
const TRACK: &str =
    "query($code: String!) { trackedComplaint(trackingCode: $code) { status canAnswerSurvey } }";

/// The unit test's worked example: four respondents, IKM 82.64, grade B.
const EXAMPLE: [[i64; 9]; 4] = [
    [4, 3, 3, 4, 3, 4, 4, 3, 3],
    [3, 3, 2, 4, 3, 3, 4, 3, 3],
    [4, 4, 3, 4, 3, 4, 4, 2, 3],
    [3, 3, 3, 4, 4, 3, 4, 3, 2],
];

fn window() -> Value {
    let now = chrono::Utc::now();
    json!({
        "from": (now - chrono::Duration::days(1)).to_rfc3339(),
        "to": (now + chrono::Duration::days(1)).to_rfc3339(),
    })
}

/// Verifies, dispatches to `opd`, answers and closes case `id` (that OPD's
/// officer does the answering and closing).
async fn close(env: &Env, id: &str, opd: &str) {
    env.agent.ok(MUTATE_VERIFY, input(id, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(id, json!({"opd": opd})))
        .await;
    let officer = if opd == "DPU" {
        &env.dpu_officer
    } else {
        &env.dlh_officer
    };
    officer
        .ok(MUTATE_RESPOND, input(id, json!({"message": "Ditangani."})))
        .await;
    officer
        .ok(
            MUTATE_CLOSE,
            input(id, json!({"resolution": "RESOLVED", "summary": "Selesai."})),
        )
        .await;
}

fn answers(scores: [i64; 9], code: Option<&str>) -> Value {
    json!({"answers": survey_answers(scores), "trackingCode": code})
}

async fn the_ikm_of_an_opd_follows_the_national_method(backend: Backend) {
    let env = Env::start(backend).await;
    let public = env.server.client("");
    let other_citizen = env.client("CITIZEN", None, "warga-2").await;

    // Three DPU cases reported by warga-1, one by a caller without an account
    // (tracking code), one DLH case.
    let mut dpu = Vec::new();
    for _ in 0..3 {
        dpu.push(env.submit().await);
    }
    let submitted =
        public.ok(SUBMIT_CODE, json!({"input": report()})).await["submitComplaint"].clone();
    let by_code = submitted["id"].as_str().unwrap().to_string();
    let code = submitted["trackingCode"].as_str().unwrap().to_string();
    let dlh = env
        .citizen
        .ok(
            SUBMIT,
            json!({"input": report_with(json!({"category": "GARBAGE"}))}),
        )
        .await;
    let dlh = id_of(&dlh);

    // Not closed yet: INVALID_TRANSITION, nothing appended.
    env.agent.ok(MUTATE_VERIFY, input(&dpu[0], json!({}))).await;
    env.refused(
        &dpu[0],
        &env.citizen,
        MUTATE_ANSWER_SURVEY,
        input(&dpu[0], answers([4; 9], None)),
        "INVALID_TRANSITION",
    )
    .await;
    // (close() verifies again: start that case over from a fresh one.)
    dpu[0] = env.submit().await;
    for id in &dpu {
        close(&env, id, "DPU").await;
    }
    close(&env, &by_code, "DPU").await;
    close(&env, &dlh, "DLH").await;
    let track = public.ok(TRACK, json!({"code": code})).await;
    assert_eq!(track["trackedComplaint"]["canAnswerSurvey"], true);

    // Out of range, incomplete, repeated or unknown elements: INVALID_INPUT.
    let mut bad = vec![
        answers([5, 4, 4, 4, 4, 4, 4, 4, 4], None),
        answers([4, 4, 4, 4, 0, 4, 4, 4, 4], None),
    ];
    let mut eight = answers([4; 9], None);
    eight["answers"].as_array_mut().unwrap().pop();
    bad.push(eight);
    let mut twice = answers([4; 9], None);
    twice["answers"][8]["element"] = json!("U1");
    bad.push(twice);
    let mut unknown = answers([4; 9], None);
    unknown["answers"][0]["element"] = json!("U10");
    bad.push(unknown);
    for fields in bad {
        let body = env
            .refused(
                &dpu[0],
                &env.citizen,
                MUTATE_ANSWER_SURVEY,
                input(&dpu[0], fields),
                "INVALID_INPUT",
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "answers",
            "{body}"
        );
    }
    // The wrong person: another citizen, the OPD, the Command Center, a forged
    // code or none: refused, nothing appended.
    for client in [
        &other_citizen,
        &env.dpu_officer,
        &env.agent,
        &env.supervisor,
    ] {
        env.refused(
            &dpu[0],
            client,
            MUTATE_ANSWER_SURVEY,
            input(&dpu[0], answers([4; 9], None)),
            "FORBIDDEN",
        )
        .await;
    }
    let forged = crate::access::forged(&code);
    for wrong in [Some(forged.as_str()), None] {
        let before = env.history(&by_code).await;
        let body = public
            .query(
                MUTATE_ANSWER_SURVEY,
                input(&by_code, answers([4; 9], wrong)),
            )
            .await;
        assert!(crate::access::refused(&body), "{body}");
        assert_eq!(env.history(&by_code).await, before);
    }

    // The worked example: three answers by account, one by tracking code.
    let mut last = 0;
    for (id, scores) in dpu.iter().zip(EXAMPLE) {
        let done = env
            .citizen
            .ok(MUTATE_ANSWER_SURVEY, input(id, answers(scores, None)))
            .await;
        last = last.max(returned(&done)["position"].as_i64().unwrap());
    }
    let done = public
        .ok(
            MUTATE_ANSWER_SURVEY,
            input(&by_code, answers(EXAMPLE[3], Some(&code))),
        )
        .await;
    last = last.max(returned(&done)["position"].as_i64().unwrap());
    let done = env
        .citizen
        .ok(MUTATE_ANSWER_SURVEY, input(&dlh, answers([4; 9], None)))
        .await;
    last = last.max(returned(&done)["position"].as_i64().unwrap());
    assert!(env
        .event_types(&by_code)
        .await
        .contains(&"SurveyAnswered".to_string()));
    let track = public.ok(TRACK, json!({"code": code})).await;
    assert_eq!(track["trackedComplaint"]["canAnswerSurvey"], false);

    // Once per case: a second answer is INVALID_TRANSITION and changes nothing.
    env.refused(
        &dpu[0],
        &env.citizen,
        MUTATE_ANSWER_SURVEY,
        input(&dpu[0], answers([1; 9], None)),
        "INVALID_TRANSITION",
    )
    .await;

    // DPU's IKM: 82.64, B ("Baik"), NRR per element as the unit test computes.
    let mut vars = window();
    vars["opd"] = json!("DPU");
    vars["min"] = json!(last);
    let ikm = env.supervisor.ok(IKM, vars.clone()).await["ikm"].clone();
    assert_eq!(ikm["opd"], "DPU");
    let total = &ikm["total"];
    assert_eq!(total["respondents"], 4, "{ikm}");
    assert_eq!(total["ikm"], 82.64, "{ikm}");
    assert_eq!(total["grade"], "B");
    assert_eq!(total["gradeLabel"], "Baik");
    let sums: Vec<i64> = total["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sum"].as_i64().unwrap())
        .collect();
    assert_eq!(sums, [14, 13, 11, 16, 13, 14, 16, 11, 11]);
    assert_eq!(total["elements"][0]["code"], "U1");
    assert_eq!(total["elements"][0]["name"], "Persyaratan");
    assert_eq!(total["elements"][0]["nrr"], 3.5);
    assert_eq!(total["elements"][8]["name"], "Sarana dan prasarana");
    assert_eq!(total["elements"][8]["nrr"], 2.75);
    assert_eq!(ikm["groups"], json!([]));

    // The city by OPD: DLH 100 (A), DPU 82.64 (B); together 86.11 (B).
    let mut city = window();
    city["group"] = json!("OPD");
    let ikm = env.auditor.ok(IKM, city).await["ikm"].clone();
    assert_eq!(ikm["opd"], Value::Null);
    assert_eq!(ikm["total"]["respondents"], 5);
    assert_eq!(ikm["total"]["ikm"], 86.11, "{ikm}");
    assert_eq!(
        ikm["groups"],
        json!([
            {"key": "DLH", "respondents": 1, "ikm": 100.0, "grade": "A"},
            {"key": "DPU", "respondents": 4, "ikm": 82.64, "grade": "B"},
        ])
    );
    let mut monthly = window();
    monthly["group"] = json!("MONTH");
    let months = env.supervisor.ok(IKM, monthly).await["ikm"]["groups"].clone();
    let months = months.as_array().unwrap();
    assert!(!months.is_empty() && months.len() <= 2, "{months:?}");
    let n: i64 = months
        .iter()
        .map(|m| m["respondents"].as_i64().unwrap())
        .sum();
    assert_eq!(n, 5);
    assert!(months.iter().all(|m| m["key"].as_str().unwrap().len() == 7));

    // Read as the dashboard is: an OPD sees its own, not another's; citizens nothing.
    let own = env.dpu_officer.ok(IKM, window()).await;
    assert_eq!(own["ikm"]["opd"], "DPU");
    assert_eq!(own["ikm"]["total"]["respondents"], 4);
    let mut theirs = window();
    theirs["opd"] = json!("DLH");
    assert_eq!(env.dpu_officer.error_code(IKM, theirs).await, "FORBIDDEN");
    assert_eq!(env.citizen.error_code(IKM, window()).await, "FORBIDDEN");
    // A range the wrong way round is INVALID_INPUT.
    let mut backwards = window();
    backwards["from"] = window()["to"].clone();
    backwards["to"] = window()["from"].clone();
    assert_eq!(
        env.supervisor.error_code(IKM, backwards).await,
        "INVALID_INPUT"
    );

    // The dashboard shows it beside the 1-5 rating.
    let board = env.dpu_admin.ok(DASHBOARD, vars).await["dashboard"].clone();
    assert_eq!(
        board["ikm"]["total"],
        json!({"respondents": 4, "ikm": 82.64, "grade": "B"})
    );
    assert_eq!(board["ratings"], 0);
    env.finish().await;
}
