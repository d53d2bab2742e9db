//! The access table's refusals: who may not do what, and who must sign in.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_access_table_refuses_the_wrong_role_and_the_wrong_opd() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let id = cast.submitted().await;
    // A citizen may not verify; an agent may.
    assert_eq!(
        cast.citizen
            .error_code(MUTATE_VERIFY, input(&id, json!({})))
            .await,
        "FORBIDDEN"
    );
    // Another citizen may not read someone else's case.
    let stranger = Client::new(&app, aduan_domain::Role::Citizen, None, "warga-2");
    assert_eq!(
        stranger.error_code(COMPLAINT, json!({"id": id})).await,
        "FORBIDDEN"
    );
    // DLH's officer may not reply to DPU's case; DPU's may.
    let assigned = cast.assigned().await;
    let reply = input(&assigned, json!({"message": "Halo"}));
    assert_eq!(
        cast.dlh_officer
            .error_code(MUTATE_RESPOND, reply.clone())
            .await,
        "FORBIDDEN"
    );
    let data = cast.dpu_officer.ok(MUTATE_RESPOND, reply).await;
    assert_eq!(returned(&data)["status"], "IN_PROGRESS");
    app.finish().await;
}

#[tokio::test]
async fn no_token_or_a_bad_one_is_unauthenticated() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let id = cast.submitted().await;
    let anonymous = Client::anonymous(&app);
    let garbage = Client {
        app: &app,
        token: Some("not-a-token".into()),
    };
    for client in [&anonymous, &garbage] {
        assert_eq!(
            client
                .error_code(MUTATE_VERIFY, input(&id, json!({})))
                .await,
            "UNAUTHENTICATED"
        );
        assert_eq!(
            client.error_code("{ me { id } }", json!({})).await,
            "UNAUTHENTICATED"
        );
    }
    app.finish().await;
}
