//! "Is it one of these?": the open cases of a category around a point, nearest
//! first, under the category's nearby rule (`aduan_domain::nearby`). Staff get
//! list items (`nearbyComplaints`, `Complaint.possibleDuplicates`); anyone,
//! with or without an account, gets what a tracking code would show of each
//! (`publicNearbyComplaints`): never the reporter, the title or the place.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Duration, Utc};

use aduan_domain::access::{Operation, Scope};
use aduan_domain::nearby::NearbyRule;
use aduan_domain::places::Circle;
use aduan_domain::{CategoryCode, Status};
use aduan_projections::near::Nearest;
use aduan_projections::summary_query::{SummaryFilter, SummaryRow};

use super::access::guard;
use super::context::{bus, reads};
use super::error::{command_error, gql_error, store_error};
use super::list::ComplaintListItem;
use super::types::{ComplaintStatus, Resolution};
use crate::error_code::ClientCode;

/// The most cases one answer lists.
const MAX_FIRST: i32 = 50;

/// What a nearby question asks, checked.
struct Question {
    circle: Circle,
    category: String,
    open_only: bool,
    since: DateTime<Utc>,
    first: usize,
}

/// The rule of `category` (INVALID_INPUT naming `category` when unknown).
fn rule_of(ctx: &Context<'_>, category: &str) -> Result<(String, NearbyRule)> {
    let reference = &bus(ctx)?.services().reference;
    let code = CategoryCode::known(reference, category)
        .map_err(|e| command_error(e.at("category").into()))?
        .into_string();
    let rule = reference.nearby.for_category(&code);
    Ok((code, rule))
}

fn circle(latitude: f64, longitude: f64, radius: f64, max: u32) -> Result<Circle> {
    Circle::parse(latitude, longitude, radius, f64::from(max)).map_err(|e| command_error(e.into()))
}

/// The cases `q` finds, nearest first, within `scope`, other than `not_id`.
async fn nearest(
    ctx: &Context<'_>,
    q: &Question,
    scope: Scope,
    not_id: Option<String>,
) -> Result<Vec<(SummaryRow, f64)>> {
    let mut not_statuses = vec![Status::Duplicate.as_str().to_string()];
    if q.open_only {
        not_statuses.extend([Status::Closed, Status::Rejected].map(|s| s.as_str().to_string()));
    }
    let mut filter = SummaryFilter {
        categories: vec![q.category.clone()],
        created_from: Some(q.since),
        not_statuses,
        not_id,
        now: bus(ctx)?.services().clock.now(),
        ..SummaryFilter::default()
    };
    match scope {
        Scope::All => {}
        Scope::Opd(opd) => filter.opds = vec![opd],
        Scope::Reporter(_) | Scope::Nothing => return Ok(Vec::new()),
    }
    let found = reads(ctx)?
        .nearest(&filter, &q.circle, q.first)
        .await
        .map_err(store_error)?;
    match found {
        Nearest::Found(near) => Ok(near.into_iter().map(|n| (n.row, n.distance_m)).collect()),
        Nearest::TooMany => Err(gql_error(
            ClientCode::InvalidInput,
            "too many cases around that point: ask a smaller radius or a later `since`",
        )),
    }
}

fn items(rows: Vec<(SummaryRow, f64)>, now: DateTime<Utc>) -> Result<Vec<ComplaintListItem>> {
    rows.into_iter()
        .map(|(row, d)| {
            let mut item = ComplaintListItem::from_row(row, now)?;
            item.distance_meters = Some(d);
            Ok(item)
        })
        .collect()
}

/// A case near the point asked about, as its tracking view would show it.
#[derive(SimpleObject)]
pub struct NearbyReport {
    pub id: ID,
    pub status: ComplaintStatus,
    pub category: String,
    /// The OPD handling it.
    pub opd: Option<String>,
    pub created_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub resolution: Option<Resolution>,
    /// Reports of the same incident (this one and those linked to it).
    pub report_count: i64,
    /// Meters from the point asked about, to the nearest 10 (the exact place
    /// of someone else's report is not shown).
    pub distance_meters: f64,
}

impl NearbyReport {
    fn from(item: ComplaintListItem) -> NearbyReport {
        NearbyReport {
            id: item.id,
            status: item.status,
            category: item.category,
            opd: item.opd,
            created_at: item.created_at,
            first_response_at: item.first_response_at,
            closed_at: item.closed_at,
            resolution: item.resolution,
            report_count: item.report_count,
            distance_meters: (item.distance_meters.unwrap_or(0.0) / 10.0).round() * 10.0,
        }
    }
}

#[derive(Default)]
pub struct NearbyQuery;

#[Object]
impl NearbyQuery {
    /// Staff: the cases of `category` at most `radiusMeters` from a point,
    /// nearest first, with `distanceMeters`. Defaults follow the category's
    /// rule: the staff radius (at most 1,000 m), open cases only, created in
    /// the rule's age (`since`). Linked duplicates are left out (link to the
    /// incident's primary). An OPD's staff see their own OPD's cases.
    #[allow(clippy::too_many_arguments)]
    async fn nearby_complaints(
        &self,
        ctx: &Context<'_>,
        latitude: f64,
        longitude: f64,
        category: String,
        radius_meters: Option<f64>,
        open_only: Option<bool>,
        since: Option<DateTime<Utc>>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<ComplaintListItem>> {
        let (_, scope) = guard(ctx, Operation::NearbyComplaints)?;
        let (category, rule) = rule_of(ctx, &category)?;
        let radius = radius_meters.unwrap_or(f64::from(rule.staff_radius_m));
        let now = bus(ctx)?.services().clock.now();
        let q = Question {
            circle: circle(latitude, longitude, radius, rule.staff_radius_m)?,
            category,
            open_only: open_only.unwrap_or(true),
            since: since.unwrap_or(now - Duration::days(i64::from(rule.max_age_days))),
            first: usize::try_from(first.clamp(1, MAX_FIRST)).unwrap_or(20),
        };
        items(nearest(ctx, &q, scope, None).await?, now)
    }

    /// Anyone, with or without an account, before filing: the open cases of
    /// `category` within the category's citizen radius (250 m unless the city
    /// set another; `radiusMeters` may ask less), created in the rule's age,
    /// nearest first, at most 20, as a tracking code would show each.
    async fn public_nearby_complaints(
        &self,
        ctx: &Context<'_>,
        latitude: f64,
        longitude: f64,
        category: String,
        radius_meters: Option<f64>,
    ) -> Result<Vec<NearbyReport>> {
        guard(ctx, Operation::PublicNearbyComplaints)?;
        let (category, rule) = rule_of(ctx, &category)?;
        let radius = radius_meters.unwrap_or(f64::from(rule.citizen_radius_m));
        let now = bus(ctx)?.services().clock.now();
        let q = Question {
            circle: circle(latitude, longitude, radius, rule.citizen_radius_m)?,
            category,
            open_only: true,
            since: now - Duration::days(i64::from(rule.max_age_days)),
            first: 20,
        };
        let found = items(nearest(ctx, &q, Scope::All, None).await?, now)?;
        Ok(found.into_iter().map(NearbyReport::from).collect())
    }
}

/// `Complaint.possibleDuplicates`: the open cases of the case's category
/// within its rule's staff radius and age, nearest first, the case itself and
/// linked duplicates left out; empty for callers the access table refuses.
pub async fn possible_duplicates(
    ctx: &Context<'_>,
    id: &str,
    category: &str,
    latitude: f64,
    longitude: f64,
) -> Result<Vec<ComplaintListItem>> {
    let Ok((_, scope)) = guard(ctx, Operation::PossibleDuplicates) else {
        return Ok(Vec::new());
    };
    let rule = bus(ctx)?.services().reference.nearby.for_category(category);
    let now = bus(ctx)?.services().clock.now();
    let radius = f64::from(rule.staff_radius_m);
    let Ok(circle) = Circle::parse(latitude, longitude, radius, radius) else {
        return Ok(Vec::new());
    };
    let q = Question {
        circle,
        category: category.to_string(),
        open_only: true,
        since: now - Duration::days(i64::from(rule.max_age_days)),
        first: 10,
    };
    items(nearest(ctx, &q, scope, Some(id.to_string())).await?, now)
}
