//! The text search's SQL (see `aduan_domain::search` for what is indexed):
//! the match, through the GIN index of `search_tsv` on PostgreSQL and the FTS5
//! table `complaint_summary_fts` on SQLite, and a ranked page.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::summary_query::{push_filter, Keyset, SummaryFilter, COLUMNS};

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
/// SQLite, as the index's word statistics do: a list under writes.
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
            "hits.search_rank FROM complaint_summary JOIN (SELECT rowid AS hit, \
             CAST(round(-bm25(complaint_summary_fts, 2.5, 1.0) * 1000000) AS INTEGER) \
             AS search_rank FROM complaint_summary_fts WHERE complaint_summary_fts MATCH ",
        )
        .push_bind(fts_query(terms))
        .push(") AS hits ON hits.hit = complaint_summary.rowid");
        push_filter(&mut q, &rest);
    } else {
        q.push("CAST(round(ts_rank('{0.1, 0.2, 0.4, 1.0}', search_tsv, plainto_tsquery('simple', ")
            .push_bind(terms.join(" "))
            .push(")) * 1000000) AS bigint) AS search_rank FROM complaint_summary");
        push_filter(&mut q, filter);
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
