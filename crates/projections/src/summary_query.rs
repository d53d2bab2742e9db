//! Reading `complaint_summary`: filtered, stably sorted, keyset-paginated lists,
//! built once for both databases (run by the backends, `shared.rs`).

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use aduan_domain::places::Bounds;
use aduan_domain::sla::{CaseSla, TimerState};

pub use crate::summary_order::{Keyset, OrderField, SortValue, SummaryOrder};

/// One row of `complaint_summary` as lists show it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SummaryRow {
    pub complaint_id: String,
    pub status: String,
    pub channel: String,
    pub category: String,
    pub priority: String,
    pub opd: Option<String>,
    pub officer_id: Option<String>,
    pub kecamatan: Option<String>,
    pub kelurahan: Option<String>,
    pub title: String,
    pub anonymous: bool,
    pub external_ref: Option<String>,
    pub duplicate_of: Option<String>,
    pub escalation_level: i32,
    pub resolution: Option<String>,
    pub rating: Option<i16>,
    pub reopen_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub sla_state: Option<String>,
    pub sla_at_risk_at: Option<DateTime<Utc>>,
    pub sla_deadline: Option<DateTime<Utc>>,
    pub version: i64,
    pub last_position: i64,
    /// The reports of the case's incident: itself and the cases that follow it
    /// (`incident`; a one-way DUPLICATE closing is no member).
    pub report_count: i64,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The case number (`aduan_domain::numbering`); none on older cases.
    pub number: Option<String>,
    /// How well the row matches a text search (higher first); `None` outside one.
    #[sqlx(default)]
    pub search_rank: Option<i64>,
}

impl SummaryRow {
    /// The case's SLA standing at `now`; `None` when no clock has started.
    pub fn sla_state_at(&self, now: DateTime<Utc>) -> Option<TimerState> {
        let state = TimerState::parse(self.sla_state.as_deref()?)?;
        Some(
            CaseSla {
                state,
                at_risk_at: self.sla_at_risk_at,
                deadline: self.sla_deadline,
            }
            .state_at(now),
        )
    }
}

/// All conditions must hold; an empty list or `None` means "any".
#[derive(Debug, Clone)]
pub struct SummaryFilter {
    pub statuses: Vec<String>,
    pub opds: Vec<String>,
    pub categories: Vec<String>,
    pub kecamatan: Vec<String>,
    pub channels: Vec<String>,
    pub priorities: Vec<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Words a case must all have, searched in its title, description,
    /// responses, PUBLIC notes and closing summaries, each word's stem
    /// (`aduan_domain::search`); a page of such a search is in rank order.
    pub text: Option<String>,
    /// Ids in the systems cases came from (any of).
    pub external_refs: Vec<String>,
    /// Only cases that came from another system (true) or only the city's own (false).
    pub has_external_ref: Option<bool>,
    /// Only the duplicates of these cases (their `duplicate_of`, any of).
    pub duplicates_of: Vec<String>,
    /// SLA standings as of `now`.
    pub sla_states: Vec<TimerState>,
    /// Only this reporter's cases (see `tracking::reporter_ref`).
    pub reporter_ref: Option<String>,
    /// Only cases in these index cells (`h3_cell`, any of): a circle's cover.
    pub cells: Vec<i64>,
    /// Only cases whose coordinates lie in this box.
    pub bounds: Option<Bounds>,
    /// None of these statuses.
    pub not_statuses: Vec<String>,
    /// Not this case.
    pub not_id: Option<String>,
    /// Only the case with this number (`CaseNumber`'s spelling).
    pub number: Option<String>,
    /// Assigned to one of these officers (`officer_id`, the officer's actor id).
    pub officer_ids: Vec<String>,
    /// Assigned to an OPD but to no officer yet.
    pub unassigned_officer: bool,
    /// Escalated (`escalation_level > 0`) or not.
    pub escalated: Option<bool>,
    /// Linked to a primary as its duplicate (`primary_id` set) or not.
    pub duplicate: Option<bool>,
    /// The primary of an incident (other reports follow it) or not.
    pub primary: Option<bool>,
    /// The order pages come in (not a condition).
    pub order: SummaryOrder,
    pub now: DateTime<Utc>,
}

impl SummaryFilter {
    /// Whether the filter asks where cases are.
    pub fn is_placed(&self) -> bool {
        !self.cells.is_empty() || self.bounds.is_some()
    }

    /// The text search's stems, if the filter searches (a text without
    /// words searches nothing and filters nothing).
    pub fn search_terms(&self) -> Option<Vec<String>> {
        let terms = aduan_domain::search::query_terms(self.text.as_deref()?);
        (!terms.is_empty()).then_some(terms)
    }

    /// Whether the filter has a work-queue condition (officer, dispatch,
    /// escalation, incidents), which the roll-up's counters do not keep.
    pub fn has_queue_condition(&self) -> bool {
        !self.officer_ids.is_empty()
            || self.unassigned_officer
            || self.escalated.is_some()
            || self.duplicate.is_some()
            || self.primary.is_some()
    }
}

impl Default for SummaryFilter {
    fn default() -> Self {
        SummaryFilter {
            statuses: Vec::new(),
            opds: Vec::new(),
            categories: Vec::new(),
            kecamatan: Vec::new(),
            channels: Vec::new(),
            priorities: Vec::new(),
            created_from: None,
            created_to: None,
            text: None,
            external_refs: Vec::new(),
            has_external_ref: None,
            duplicates_of: Vec::new(),
            sla_states: Vec::new(),
            reporter_ref: None,
            cells: Vec::new(),
            bounds: None,
            not_statuses: Vec::new(),
            not_id: None,
            number: None,
            officer_ids: Vec::new(),
            unassigned_officer: false,
            escalated: None,
            duplicate: None,
            primary: None,
            order: SummaryOrder::default(),
            now: Utc::now(),
        }
    }
}

pub(crate) const COLUMNS: &str =
    "complaint_id, status, channel, category, priority, opd, officer_id, kecamatan, \
     kelurahan, title, anonymous, external_ref, duplicate_of, escalation_level, resolution, \
     rating, reopen_count, created_at, updated_at, verified_at, assigned_at, \
     first_response_at, closed_at, sla_state, sla_at_risk_at, sla_deadline, version, last_position, \
     latitude, longitude, number, due_key, priority_rank, \
     1 + (SELECT count(*) FROM complaint_summary m \
          WHERE m.duplicate_of = complaint_summary.complaint_id AND m.primary_id IS NOT NULL) \
       AS report_count";

/// `CaseSla::state_at` in SQL, over `complaint_summary`'s columns at instant `now`
/// (the same rule: running clocks only make a stored state worse).
pub(crate) fn push_sla_state<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, now: DateTime<Utc>)
where
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    q.push("(CASE WHEN sla_state = 'BREACHED' OR sla_deadline < ")
        .push_bind(now)
        .push(" THEN 'BREACHED' WHEN sla_state = 'AT_RISK' OR sla_at_risk_at <= ")
        .push_bind(now)
        .push(" THEN 'AT_RISK' ELSE sla_state END)");
}

/// ` AND column IN (...)`, nothing for an empty list (SQLite has no array
/// parameters, so both databases get a list of binds).
pub(crate) fn push_in<'a, DB: Database>(
    q: &mut QueryBuilder<'a, DB>,
    column: &str,
    values: &[String],
) where
    String: Encode<'a, DB> + Type<DB>,
{
    if values.is_empty() {
        return;
    }
    q.push(format!(" AND {column} IN ("));
    let mut list = q.separated(", ");
    for v in values {
        list.push_bind(v.clone());
    }
    q.push(")");
}

fn push_not_in<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, column: &str, states: &[TimerState])
where
    String: Encode<'a, DB> + Type<DB>,
{
    q.push(format!(" AND {column} NOT IN ("));
    let mut list = q.separated(", ");
    for s in states {
        list.push_bind(s.as_str().to_string());
    }
    q.push(")");
}

pub(crate) fn push_filter<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, f: &SummaryFilter)
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    q.push(" WHERE 1 = 1");
    push_in(q, "status", &f.statuses);
    push_in(q, "opd", &f.opds);
    push_in(q, "category", &f.categories);
    push_in(q, "kecamatan", &f.kecamatan);
    push_in(q, "channel", &f.channels);
    push_in(q, "priority", &f.priorities);
    push_in(q, "external_ref", &f.external_refs);
    push_in(q, "duplicate_of", &f.duplicates_of);
    if let Some(has) = f.has_external_ref {
        q.push(if has {
            " AND external_ref IS NOT NULL"
        } else {
            " AND external_ref IS NULL"
        });
    }
    push_place(q, f);
    push_queue(q, f);
    if !f.not_statuses.is_empty() {
        q.push(" AND status NOT IN (");
        let mut list = q.separated(", ");
        for s in &f.not_statuses {
            list.push_bind(s.clone());
        }
        q.push(")");
    }
    if let Some(id) = &f.not_id {
        q.push(" AND complaint_id <> ").push_bind(id.clone());
    }
    if let Some(number) = &f.number {
        q.push(" AND number = ").push_bind(number.clone());
    }
    if let Some(reporter) = &f.reporter_ref {
        q.push(" AND reporter_ref = ").push_bind(reporter.clone());
    }
    if let Some(from) = f.created_from {
        q.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = f.created_to {
        q.push(" AND created_at < ").push_bind(to);
    }
    if let Some(terms) = f.search_terms() {
        crate::search_query::push_search_match(q, &terms);
    }
    if !f.sla_states.is_empty() {
        q.push(" AND ");
        push_sla_state(q, f.now);
        let names: Vec<String> = f.sla_states.iter().map(|s| s.as_str().into()).collect();
        q.push(" IN (");
        let mut list = q.separated(", ");
        for name in names {
            list.push_bind(name);
        }
        q.push(")");
    }
}

/// The work-queue conditions. Each is an equality or a fixed predicate so that
/// the order's indexes (migrations 0024 / 0022) serve it.
fn push_queue<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, f: &SummaryFilter)
where
    String: Encode<'a, DB> + Type<DB>,
{
    push_in(q, "officer_id", &f.officer_ids);
    if f.unassigned_officer {
        q.push(" AND opd IS NOT NULL AND officer_id IS NULL");
    }
    let flags = [
        (
            f.escalated,
            " AND escalation_level > 0",
            " AND escalation_level = 0",
        ),
        (
            f.duplicate,
            " AND primary_id IS NOT NULL",
            " AND primary_id IS NULL",
        ),
    ];
    for (flag, yes, no) in flags {
        if let Some(flag) = flag {
            q.push(if flag { yes } else { no });
        }
    }
    if let Some(primary) = f.primary {
        q.push(if primary {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        });
        q.push(
            " (SELECT 1 FROM complaint_summary m WHERE m.duplicate_of = \
             complaint_summary.complaint_id AND m.primary_id IS NOT NULL)",
        );
    }
}

/// The place conditions. Cells and coordinates are numbers the server made
/// (cells from `geo`, a checked `Bounds`), written as literals: SQLite has no
/// array parameters, and the planner estimates the cells' and the box's rows
/// from their values. `{:?}` writes a finite f64 so that both databases read
/// back the same value.
fn push_place<DB: Database>(q: &mut QueryBuilder<'_, DB>, f: &SummaryFilter) {
    if !f.cells.is_empty() {
        let cells: Vec<String> = f.cells.iter().map(i64::to_string).collect();
        q.push(format!(" AND h3_cell IN ({})", cells.join(", ")));
    }
    if let Some(b) = &f.bounds {
        q.push(format!(
            " AND latitude >= {:?} AND latitude <= {:?} AND longitude >= {:?} AND longitude <= {:?}",
            b.south, b.north, b.west, b.east
        ));
    }
}

/// Every row matching (no order), at most `cap`: a circle's candidates, which
/// the caller narrows by exact distance.
pub fn rows_query<'a, DB: Database>(filter: &SummaryFilter, cap: i64) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS} FROM complaint_summary"));
    push_filter(&mut q, filter);
    q.push(" LIMIT ").push_bind(cap);
    q
}

/// The coordinates of every row matching: what an exact count in a circle reads.
pub fn points_query<'a, DB: Database>(filter: &SummaryFilter) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new("SELECT latitude, longitude FROM complaint_summary");
    push_filter(&mut q, filter);
    q
}

/// One page (newest first), one row more than asked to tell whether more follow.
/// Several statuses are read as one index range each, merged: an `IN` list over
/// the `(status, created_at, complaint_id)` index cannot return rows in order, so
/// the database would otherwise sort every matching row.
pub fn page_query<'a, DB: Database>(
    filter: &SummaryFilter,
    after: Option<&Keyset>,
    first: i64,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    if filter.order.field == OrderField::Relevance {
        // Nothing to rank: newest first (the edge gives no such cursor).
        let newest = || SummaryFilter {
            order: SummaryOrder::default(),
            ..filter.clone()
        };
        return match filter.search_terms() {
            Some(terms) => crate::search_query::search_page_query(filter, &terms, after, first),
            None => page_query(&newest(), None, first),
        };
    }
    let mut q = QueryBuilder::new("");
    if filter.statuses.len() < 2 {
        push_page(&mut q, filter, after, first, &Swept::Any);
        return q;
    }
    for (i, status) in filter.statuses.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push("SELECT * FROM (");
        let one = SummaryFilter {
            statuses: vec![status.clone()],
            ..filter.clone()
        };
        push_page(&mut q, &one, after, first, &Swept::Any);
        q.push(format!(") AS p{i}"));
    }
    q.push(filter.order.order_by())
        .push(" LIMIT ")
        .push_bind(first + 1);
    q
}

/// Which rows of the swept column (`sla_sweep`) a page reads.
enum Swept {
    /// All (no condition).
    Any,
    /// Those swept as this state.
    Is(TimerState),
    /// Those written since the last sweep.
    Unswept,
    /// Those swept as none of the filter's states whose at-risk instant or
    /// deadline falls in `[swept_at, now]`.
    Turned(DateTime<Utc>),
}

/// Whether `swept_page_query` can serve this filter's page (one index range per SLA
/// state; several statuses would need one per pair; rank order is `page_query`'s).
pub fn sweepable(filter: &SummaryFilter) -> bool {
    !filter.sla_states.is_empty()
        && filter.statuses.len() < 2
        && filter.order.field != OrderField::Relevance
}

/// A page of an SLA-state filter over the rows swept at `swept_at <= filter.now`
/// (see `sla_sweep`): for each wanted state the rows swept as it, plus the rows
/// unswept (each an ordered, limited index range), plus the rows whose instants
/// fell since the sweep (a small set, read whole), merged. Every part keeps the exact condition on the
/// standing at `now`, so the page is the one `page_query` returns.
pub fn swept_page_query<'a, DB: Database>(
    filter: &SummaryFilter,
    after: Option<&Keyset>,
    first: i64,
    swept_at: DateTime<Utc>,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut states = filter.sla_states.clone();
    states.sort_by_key(|s| s.as_str());
    states.dedup();
    let parts = states
        .into_iter()
        .map(Swept::Is)
        .chain([Swept::Unswept, Swept::Turned(swept_at)]);
    let mut q = QueryBuilder::new("");
    for (i, part) in parts.enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push("SELECT * FROM (");
        push_page(&mut q, filter, after, first, &part);
        q.push(format!(") AS s{i}"));
    }
    q.push(filter.order.order_by())
        .push(" LIMIT ")
        .push_bind(first + 1);
    q
}

fn push_page<'a, DB: Database>(
    q: &mut QueryBuilder<'a, DB>,
    filter: &SummaryFilter,
    after: Option<&Keyset>,
    first: i64,
    swept: &Swept,
) where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    q.push(format!("SELECT {COLUMNS} FROM complaint_summary"));
    push_filter(q, filter);
    match swept {
        Swept::Any => {}
        Swept::Is(state) => {
            q.push(" AND sla_state_swept = ")
                .push_bind(state.as_str().to_string());
        }
        Swept::Unswept => {
            q.push(" AND sla_state_swept IS NULL");
        }
        Swept::Turned(at) => {
            // NOT IN also leaves out the unswept rows (NULL), and cannot be
            // an index range: the two instants' indexes serve this part whatever
            // the statistics say of the swept column.
            push_not_in(q, "sla_state_swept", &filter.sla_states);
            q.push(" AND ((sla_at_risk_at >= ")
                .push_bind(*at)
                .push(" AND sla_at_risk_at <= ")
                .push_bind(filter.now)
                .push(") OR (sla_deadline >= ")
                .push_bind(*at)
                .push(" AND sla_deadline <= ")
                .push_bind(filter.now)
                .push("))");
        }
    }
    if let Some(k) = after {
        k.push_after(q);
    }
    if matches!(swept, Swept::Turned(_)) {
        // Few rows, read whole through the instants' indexes: ordered and
        // limited, a generic plan (unknown instants) walks the newest cases
        // instead, as the page did before the sweep.
        return;
    }
    q.push(filter.order.order_by())
        .push(" LIMIT ")
        .push_bind(first + 1);
}

/// How many rows match (a ranked search: how many it ranks, `search_query`).
pub fn count_query<'a, DB: Database>(filter: &SummaryFilter) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    if let Some(cap) = crate::search_query::candidates(filter) {
        return crate::search_query::ranked_count_query(filter, cap);
    }
    let mut q = QueryBuilder::new("SELECT count(*) FROM complaint_summary");
    push_filter(&mut q, filter);
    q
}

pub fn one_query<'a, DB: Database>(id: &str) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS}, state FROM complaint_summary"));
    q.push(" WHERE complaint_id = ").push_bind(id.to_string());
    q
}

/// Several complaints' rows and folded cases, by id (in no particular order).
pub fn many_query<'a, DB: Database>(ids: &[String]) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS}, state FROM complaint_summary"));
    q.push(" WHERE 1 = 1");
    push_in(&mut q, "complaint_id", ids);
    q
}

/// The cases whose `duplicate_of` is `id` (linked to it, closed through it, or
/// closed one-way as its duplicate), oldest first, at most `limit`: a range of
/// the `duplicate_of` index.
pub fn duplicates_query<'a, DB: Database>(id: &str, limit: i64) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS} FROM complaint_summary"));
    q.push(" WHERE duplicate_of = ")
        .push_bind(id.to_string())
        .push(" ORDER BY created_at, complaint_id LIMIT ")
        .push_bind(limit);
    q
}

/// Splits a page fetched with one extra row into the page and "more follow".
pub fn split_page(mut rows: Vec<SummaryRow>, first: i64) -> (Vec<SummaryRow>, bool) {
    let more = rows.len() as i64 > first;
    rows.truncate(first as usize);
    (rows, more)
}

#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Progress {
    pub position: i64,
    pub events_seen: i64,
    pub updated_at: Option<DateTime<Utc>>,
}
