//! The adapter over HTTP: aduan's contract (DESIGN.md), bearer token, JSON.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;

use super::adapter::{NationalError, NationalPlatform};
use super::contract::{Followup, FollowupOutcome, Page};

#[derive(Debug, Clone)]
pub struct HttpPlatform {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
    agency: String,
}

impl HttpPlatform {
    /// `timeout` bounds each request: a platform that hangs counts as down.
    pub fn new(
        base: &str,
        token: Option<String>,
        agency: &str,
        timeout: Duration,
    ) -> Result<HttpPlatform, NationalError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| NationalError::RetryLater(e.to_string()))?;
        Ok(HttpPlatform {
            client,
            base: base.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            agency: agency.to_string(),
        })
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}

fn unreachable(e: reqwest::Error) -> NationalError {
    NationalError::RetryLater(e.to_string())
}

/// The error of a response that is not a success.
async fn failure(response: reqwest::Response) -> NationalError {
    let status = response.status().as_u16();
    let mut body = response.text().await.unwrap_or_default();
    body.truncate(500);
    NationalError::from_status(status, body)
}

#[async_trait]
impl NationalPlatform for HttpPlatform {
    async fn fetch_reports(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page, NationalError> {
        let mut query = vec![
            ("agency", self.agency.clone()),
            ("limit", limit.to_string()),
        ];
        if let Some(after) = after {
            query.push(("after", after.to_string()));
        }
        let request = self
            .client
            .get(format!("{}/v1/reports", self.base))
            .query(&query);
        let response = self.authorized(request).send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        // A body cut short by a timeout is a retry, like the timeout itself.
        response.json::<Page>().await.map_err(unreachable)
    }

    async fn post_followup(
        &self,
        tracking_id: &str,
        idempotency_key: &str,
        followup: &Followup,
    ) -> Result<FollowupOutcome, NationalError> {
        let mut url = reqwest::Url::parse(&self.base)
            .map_err(|e| NationalError::RetryLater(format!("{}: {e}", self.base)))?;
        url.path_segments_mut()
            .map_err(|_| NationalError::RetryLater(format!("{} is not a base URL", self.base)))?
            .pop_if_empty()
            .extend(["v1", "reports", tracking_id, "followups"]);
        let request = self
            .client
            .post(url)
            .header("Idempotency-Key", idempotency_key)
            .json(followup);
        let response = self.authorized(request).send().await.map_err(unreachable)?;
        match response.status() {
            StatusCode::CREATED => Ok(FollowupOutcome::Recorded),
            s if s.is_success() => Ok(FollowupOutcome::AlreadyRecorded),
            _ => Err(failure(response).await),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::national::contract::Stage;
    use crate::national::simulator::{router, SimulatorConfig};

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
}
