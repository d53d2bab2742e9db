//! Inbound: reports the platform disposed to the city become NATIONAL_PLATFORM
//! submissions, each once. The submission's command id is
//! `national:<trackingId>` and its complaint id derives from it, so a re-sent
//! report, a crash between a submission and the cursor's move, and two bridges
//! polling at once all land on the one case (the command bus keeps command ids
//! durably). The cursor only saves re-reading; correctness never rests on it.
//!
//! A report that cannot become a case (an unknown field value, a text over the
//! limits) is recorded as a NOT_IMPORTABLE issue and passed: it is not retried
//! until the platform sends it again, and it holds up no other report.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use aduan_domain::{
    Action, Actor, CategoryCode, Channel, Code, Command, ComplaintError, Contact, Links, Location,
    LongText, Place, Role, Submit, Title,
};
use aduan_store::IntegrationState;
use aduan_store::{CommandBus, CommandError, CommandRequest, RequestContext, StoreError};

use super::adapter::{NationalError, NationalPlatform};
use super::contract::Report;
use super::feed::FeedPosition;
use super::outbound::Backoff;
use super::state::{import_key, Issue, Reason, CURSOR_KEY, CURSOR_KIND, ISSUE_KIND};

pub const IMPORTED_METRIC: &str = "aduan_national_reports_imported_total";
/// The actor of the bridge's submissions (it appears in each case's history).
pub const ACTOR_ID: &str = "national-bridge";

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error(transparent)]
    Platform(#[from] NationalError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// National categories onto the city's: an explicit pair first, then a city
/// code spelled the same (ignoring case), then the fallback.
#[derive(Debug, Clone)]
pub struct CategoryMap {
    pairs: HashMap<String, String>,
    city: Vec<String>,
    fallback: String,
}

impl CategoryMap {
    /// `pairs` as `National name=CITY_CODE,...`; every target and the fallback
    /// must be one of `city` (the reference data's codes).
    pub fn new(pairs: &str, fallback: &str, city: Vec<String>) -> Result<CategoryMap, String> {
        let known = |code: &str| city.iter().any(|c| c == code);
        if !known(fallback) {
            return Err(format!(
                "fallback category {fallback:?} is not a city category"
            ));
        }
        let mut map = HashMap::new();
        for pair in pairs.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (national, code) = pair
                .split_once('=')
                .ok_or_else(|| format!("category pair {pair:?} is not NAME=CODE"))?;
            let code = code.trim();
            if !known(code) {
                return Err(format!(
                    "category {code:?} (for {national:?}) is not a city category"
                ));
            }
            map.insert(national.trim().to_lowercase(), code.to_string());
        }
        Ok(CategoryMap {
            pairs: map,
            city,
            fallback: fallback.to_string(),
        })
    }

    pub fn city_code(&self, national: &str) -> String {
        let national = national.trim();
        if let Some(code) = self.pairs.get(&national.to_lowercase()) {
            return code.clone();
        }
        self.city
            .iter()
            .find(|c| c.eq_ignore_ascii_case(national))
            .unwrap_or(&self.fallback)
            .clone()
    }
}

pub struct Inbound {
    bus: Arc<CommandBus>,
    platform: Arc<dyn NationalPlatform>,
    state: IntegrationState,
    categories: CategoryMap,
    page_size: usize,
    poll: Duration,
    backoff: Backoff,
}

impl Inbound {
    pub fn new(
        bus: Arc<CommandBus>,
        platform: Arc<dyn NationalPlatform>,
        categories: CategoryMap,
        poll: Duration,
        backoff: Backoff,
    ) -> Inbound {
        Inbound {
            state: IntegrationState::for_log(bus.log().as_ref()),
            bus,
            platform,
            categories,
            page_size: 100,
            poll,
            backoff,
        }
    }

    /// Polls until `shutdown`: page after page while there are reports, then
    /// every `poll`; after a failure, again after a growing pause.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut delay = Duration::ZERO;
        let mut stop = shutdown.clone();
        loop {
            let polled = tokio::select! {
                polled = self.poll_once() => polled,
                _ = stop.wait_for(|stopping| *stopping) => return,
            };
            let pause = match polled {
                Ok(more) => {
                    delay = Duration::ZERO;
                    if more {
                        continue;
                    }
                    self.poll
                }
                Err(e) => {
                    tracing::warn!(error = %e, "national inbound: poll failed; retrying");
                    delay = self.backoff.next(delay);
                    delay
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Imports one page; true when there may be more right away.
    pub async fn poll_once(&self) -> Result<bool, InboundError> {
        let at: FeedPosition = self
            .state
            .get(CURSOR_KIND, CURSOR_KEY)
            .await?
            .unwrap_or_default();
        let page = self
            .platform
            .fetch_reports(at.after.as_deref(), self.page_size)
            .await?;
        let step = at.step(&page);
        for item in &step.fresh {
            self.import(item).await?;
        }
        if step.position != at {
            self.state
                .put(CURSOR_KIND, CURSOR_KEY, &step.position)
                .await?;
        }
        Ok(step.more)
    }

    /// Makes `item` a case unless it is one already.
    pub async fn import(&self, item: &Report) -> Result<(), StoreError> {
        let command_id = format!("national:{}", item.tracking_id);
        let complaint_id = CommandBus::new_complaint_id(Some(&command_id));
        let submit = match self.submission(item, &complaint_id) {
            Ok(submit) => submit,
            // A case made from an earlier, valid version stays the case.
            Err(_) if !self.bus.log().load(&complaint_id).await?.is_empty() => return Ok(()),
            Err(refusal) => return self.not_importable(item, refusal).await,
        };
        let request = CommandRequest {
            complaint_id: complaint_id.clone(),
            command: Command::new(
                Actor::new(ACTOR_ID, Role::System, None),
                Action::Submit(submit),
            ),
            context: RequestContext {
                channel: "national".into(),
                correlation_id: command_id.clone(),
            },
            command_id: Some(command_id),
            expected_version: None,
        };
        match self.bus.execute(request).await {
            Ok(outcome) if !outcome.replayed => {
                metrics::counter!(IMPORTED_METRIC).increment(1);
                // An earlier version of the report may have been refused.
                self.state
                    .delete(ISSUE_KIND, &import_key(&item.tracking_id))
                    .await
            }
            Ok(_) => Ok(()),
            // The platform re-sent a report it has changed since: the case is
            // the first version's, as the city has been working on it.
            Err(CommandError::Domain(ComplaintError::AlreadyExists)) => Ok(()),
            Err(CommandError::Domain(ComplaintError::InvalidInput { field, .. }))
                if field == "command_id" =>
            {
                Ok(())
            }
            Err(CommandError::Domain(refusal)) => self.not_importable(item, refusal).await,
            Err(CommandError::Conflict(detail)) => Err(StoreError::Unavailable(detail)),
            Err(CommandError::Store(e)) => Err(e),
        }
    }

    async fn not_importable(&self, item: &Report, why: ComplaintError) -> Result<(), StoreError> {
        tracing::warn!(tracking_id = %item.tracking_id, error = %why, "national report not importable");
        let key = import_key(&item.tracking_id);
        let detail = why.to_string();
        // A re-delivery of the same report keeps the problem's first date.
        let (since, attempts) = match self.state.get::<Issue>(ISSUE_KIND, &key).await? {
            Some(earlier) if earlier.detail == detail => (earlier.since, earlier.attempts + 1),
            _ => (Utc::now(), 1),
        };
        let issue = Issue {
            complaint_id: None,
            tracking_id: item.tracking_id.clone(),
            local_stage: None,
            national_stage: None,
            reason: Reason::NotImportable,
            detail,
            since,
            attempts,
        };
        self.state.put(ISSUE_KIND, &key, &issue).await
    }

    /// The report as a submission's checked values; a refusal names the field
    /// as the domain does, which is what `nationalSync` shows.
    fn submission(&self, item: &Report, complaint_id: &str) -> Result<Submit, ComplaintError> {
        let reference = &self.bus.services().reference;
        let category = self.categories.city_code(&item.category);
        let location = Location {
            latitude: item.location.lat,
            longitude: item.location.lon,
            address: item.location.address.clone(),
            kecamatan: None,
            kelurahan: None,
        };
        let reporter = item.reporter.as_ref().map(|r| {
            Contact::parse(r.name.as_deref(), r.phone.as_deref(), r.email.as_deref())
                .map_err(|e| e.within("reporter"))
        });
        Ok(Submit {
            complaint_id: Code::parse(complaint_id).map_err(|e| e.at("complaint_id"))?,
            channel: Channel::NationalPlatform,
            category: CategoryCode::known(reference, &category).map_err(|e| e.at("category"))?,
            priority: None,
            title: Title::parse(&item.title).map_err(|e| e.at("title"))?,
            description: LongText::parse(&item.body).map_err(|e| e.at("description"))?,
            location: Place::parse(reference, &location).map_err(|e| e.within("location"))?,
            reporter: reporter.transpose()?,
            // aduan has no separate confidential flag: hiding the reporter
            // from the OPD is the closest it keeps.
            anonymous: item.anonymous || item.confidential,
            attachments: Links::parse(&item.attachments).map_err(|e| e.at("attachments"))?,
            external_ref: Some(Code::parse(&item.tracking_id).map_err(|e| e.at("external_ref"))?),
            tracking_code_hash: None,
            number: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn city() -> Vec<String> {
        ["ROAD_DAMAGE", "GARBAGE", "PUBLIC_INFORMATION"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn categories_map_by_pair_then_code_then_fallback() {
        let map = CategoryMap::new(
            "Infrastruktur=ROAD_DAMAGE, Lingkungan Hidup=GARBAGE",
            "PUBLIC_INFORMATION",
            city(),
        )
        .unwrap();
        assert_eq!(map.city_code("infrastruktur"), "ROAD_DAMAGE");
        assert_eq!(map.city_code("Lingkungan Hidup"), "GARBAGE");
        assert_eq!(map.city_code("garbage"), "GARBAGE");
        assert_eq!(map.city_code("Agama"), "PUBLIC_INFORMATION");
    }

    #[test]
    fn a_map_naming_unknown_city_categories_is_refused() {
        assert!(CategoryMap::new("", "NOPE", city()).is_err());
        assert!(CategoryMap::new("A=NOPE", "GARBAGE", city()).is_err());
        assert!(CategoryMap::new("no-equals", "GARBAGE", city()).is_err());
    }
}
