//! The bridge's HTTP adapter (`aduan_integration::national::HttpPlatform`)
//! against the simulator: the contract both sides speak.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::time::Duration;

use chrono::Utc;

use aduan_integration::national::{
    Followup, FollowupOutcome, HttpPlatform, NationalError, NationalPlatform, Stage,
};
use aduan_national_sim::{router, SimulatorConfig};

/// The simulator on a free port; its base URL.
async fn simulator(config: SimulatorConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(config)).await });
    format!("http://{addr}")
}

fn platform(base: &str, token: &str, timeout: Duration) -> HttpPlatform {
    HttpPlatform::new(base, Some(token.into()), "MAKASSAR", timeout).unwrap()
}

fn followup(stage: Stage) -> Followup {
    Followup {
        stage,
        message: "Kami tindak lanjuti".into(),
        at: Utc::now(),
        agency: "MAKASSAR".into(),
    }
}

#[tokio::test]
async fn the_adapter_speaks_the_contract_the_simulator_serves() {
    let base = simulator(SimulatorConfig {
        reports: 3,
        token: Some("t".into()),
        ..Default::default()
    })
    .await;
    let p = platform(&base, "t", Duration::from_secs(5));
    let page = p.fetch_reports(None, 2).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let rest = p.fetch_reports(page.next.as_deref(), 2).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    let id = &page.items[0].tracking_id;
    let disposed = followup(Stage::Disposed);
    assert_eq!(
        p.post_followup(id, "c:3", &disposed).await,
        Ok(FollowupOutcome::Recorded)
    );
    assert_eq!(
        p.post_followup(id, "c:3", &disposed).await,
        Ok(FollowupOutcome::AlreadyRecorded)
    );
    let refused = |code: &'static str| move |r: Result<FollowupOutcome, NationalError>| matches!(r, Err(NationalError::Refused { code: c, .. }) if c == code);
    assert!(refused("NOT_FOUND")(
        p.post_followup("LPR-NONE", "x:1", &disposed).await
    ));
    assert!(refused("OUT_OF_ORDER")(
        p.post_followup(
            &rest.items[0].tracking_id,
            "d:4",
            &followup(Stage::Completed)
        )
        .await
    ));
    let stranger = platform(&base, "wrong", Duration::from_secs(5));
    assert!(matches!(
        stranger.post_followup(id, "c:4", &disposed).await,
        Err(NationalError::RetryLater(e)) if e.contains("ADUAN_NATIONAL_TOKEN")
    ));
}

#[tokio::test]
async fn failures_and_hangs_are_retried_later() {
    let base = simulator(SimulatorConfig {
        reports: 1,
        fail_rate: 1.0,
        ..Default::default()
    })
    .await;
    let p = platform(&base, "t", Duration::from_secs(5));
    assert!(matches!(
        p.fetch_reports(None, 10).await,
        Err(NationalError::RetryLater(_))
    ));
    let hanging = simulator(SimulatorConfig {
        reports: 1,
        timeout_rate: 1.0,
        hang: Duration::from_secs(5),
        ..Default::default()
    })
    .await;
    let p = platform(&hanging, "t", Duration::from_millis(200));
    assert!(matches!(
        p.fetch_reports(None, 10).await,
        Err(NationalError::RetryLater(_))
    ));
    let nobody = platform("http://127.0.0.1:9", "t", Duration::from_millis(500));
    assert!(matches!(
        nobody.fetch_reports(None, 10).await,
        Err(NationalError::RetryLater(_))
    ));
}
