//! The text search's SQL (see `aduan_domain::search` for what is indexed):
//! the match, through the GIN index of `search_tsv` on PostgreSQL and the FTS5
//! table `complaint_summary_fts` on SQLite, and a ranked page.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::summary_order::OrderField;
use crate::summary_query::{push_filter, Keyset, SummaryFilter, COLUMNS};

/// The most cases a ranked search ranks: the newest that match (the text and
/// the rest of the filter). A word in a tenth of a city's million cases would
/// otherwise rank (and count) a hundred thousand rows for a page of 20; a
/// search with fewer matches is ranked whole, as before (docs/api.md, "Search").
pub const CANDIDATES: i64 = 10_000;

/// How many cases the filter's list may hold at most, when it is a ranked
/// search (best match first): `CANDIDATES`.
pub fn candidates(filter: &SummaryFilter) -> Option<i64> {
    let ranked = filter.order.field == OrderField::Relevance && filter.search_terms().is_some();
    ranked.then_some(CANDIDATES)
}

/// A ranked search's `totalCount`: its matches up to `cap`, the cases it ranks.
pub(crate) fn ranked_count_query<'a, DB: Database>(
    filter: &SummaryFilter,
    cap: i64,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM complaint_summary");
    push_filter(&mut q, filter);
    q.push(" LIMIT ").push_bind(cap).push(") AS ranked");
    q
}

/// ` AND` the row has every stem: through the GIN index of `search_tsv` on
/// PostgreSQL, the FTS5 index `complaint_summary_fts` on SQLite (both over the
/// same stems, so both match the same rows).
pub(crate) fn push_search_match<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, terms: &[String])
where
    String: Encode<'a, DB> + Type<DB>,
{
    if is_sqlite::<DB>() {
        q.push(
            " AND rowid IN (SELECT rowid FROM complaint_summary_fts \
             WHERE complaint_summary_fts MATCH ",
        )
        .push_bind(fts_query(terms))
        .push(")");
    } else {
        q.push(" AND search_tsv @@ plainto_tsquery('simple', ")
            .push_bind(terms.join(" "))
            .push(")");
    }
}

fn is_sqlite<DB: Database>() -> bool {
    DB::NAME == "SQLite"
}

/// An FTS5 query asking for every stem (stems are letters and digits only;
/// quoted, none reads as an operator).
fn fts_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A text search's page in `OrderField::Relevance` order, best first, then by id: the rank is an integer
/// (millionths of `ts_rank` on PostgreSQL, of `-bm25` on SQLite; title and
/// description weigh 2.5 times the rest on both), so the keyset compares it
/// exactly. A row's rank moves only when its text does (PostgreSQL) or, on
/// SQLite, as the index's word statistics do: a list under writes. Only the
/// newest `CANDIDATES` matches are ranked (by `created_at` on PostgreSQL, by
/// row order, the order rows were first projected in, on SQLite, where the
/// FTS5 index walks its matches newest first and stops).
pub(crate) fn search_page_query<'a, DB: Database>(
    filter: &SummaryFilter,
    terms: &[String],
    after: Option<&Keyset>,
    first: i64,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!("SELECT * FROM (SELECT {COLUMNS}, "));
    if is_sqlite::<DB>() {
        let rest = SummaryFilter {
            text: None,
            ..filter.clone()
        };
        q.push(
            "CAST(round(-bm25(complaint_summary_fts, 2.5, 1.0) * 1000000) AS INTEGER) \
             AS search_rank FROM complaint_summary_fts JOIN complaint_summary \
             ON complaint_summary.rowid = complaint_summary_fts.rowid",
        );
        push_filter(&mut q, &rest);
        q.push(" AND complaint_summary_fts MATCH ")
            .push_bind(fts_query(terms))
            .push(" ORDER BY complaint_summary_fts.rowid DESC LIMIT ")
            .push_bind(CANDIDATES);
    } else {
        q.push("CAST(round(ts_rank('{0.1, 0.2, 0.4, 1.0}', search_tsv, plainto_tsquery('simple', ")
            .push_bind(terms.join(" "))
            .push(")) * 1000000) AS bigint) AS search_rank FROM (SELECT * FROM complaint_summary");
        push_filter(&mut q, filter);
        q.push(" ORDER BY created_at DESC, complaint_id DESC LIMIT ")
            .push_bind(CANDIDATES)
            .push(") AS complaint_summary");
    }
    q.push(") AS ranked WHERE 1 = 1");
    if let Some(k) = after {
        k.push_after(&mut q);
    }
    q.push(filter.order.order_by())
        .push(" LIMIT ")
        .push_bind(first + 1);
    q
}
