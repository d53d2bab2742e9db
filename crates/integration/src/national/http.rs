//! The adapter over HTTP: aduan's contract (docs/integration.md), bearer token, JSON.

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
