//! The orders a list of `complaint_summary` is read in, and the keyset cursors
//! that page through each of them.
//!
//! Every order is one total order on stored (or generated) columns ending in
//! `complaint_id`, read forward or backward along an index: the database never
//! sorts. `due_key` is the SLA deadline of a running clock and a far-future
//! instant ([`NO_CLOCK`]) for a case without one (no clock yet, paused, or
//! met), so that ascending puts the most urgent first and the clockless last;
//! descending is the exact reverse (clockless first). `priority_rank` is the
//! domain's urgency (`Priority::rank`, EMERGENCY 0 .. LOW 3).

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::summary_query::SummaryRow;

/// What a list is sorted by (ties broken by `complaint_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    Created,
    Updated,
    /// The running clock's deadline; no clock last (ascending).
    SlaDeadline,
    /// Priority (most urgent first ascending), then the deadline.
    Priority,
    /// A text search's rank (`search_query`): best first descending. Only a
    /// search's page has it; the edge picks it for a search given no order.
    Relevance,
}

/// A list's order: a field and a direction. The default is today's, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryOrder {
    pub field: OrderField,
    pub descending: bool,
}

impl Default for SummaryOrder {
    fn default() -> Self {
        SummaryOrder {
            field: OrderField::Created,
            descending: true,
        }
    }
}

/// `due_key` of a case without a running clock: 9999-12-31T23:59:59Z, the
/// migrations' literal (PostgreSQL `to_timestamp(253402300799)`, SQLite the
/// text sqlx writes for this instant).
pub fn no_clock() -> DateTime<Utc> {
    Utc.timestamp_opt(253_402_300_799, 0)
        .single()
        .unwrap_or_default()
}

/// One value of a sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    At(DateTime<Utc>),
    Rank(i64),
}

impl SortValue {
    fn text(&self) -> String {
        match self {
            SortValue::At(at) => at.to_rfc3339(),
            SortValue::Rank(r) => r.to_string(),
        }
    }
}

impl SummaryOrder {
    /// The sort key's columns before `complaint_id`.
    pub fn columns(&self) -> &'static [&'static str] {
        match self.field {
            OrderField::Created => &["created_at"],
            OrderField::Updated => &["updated_at"],
            OrderField::SlaDeadline => &["due_key"],
            OrderField::Priority => &["priority_rank", "due_key"],
            OrderField::Relevance => &["search_rank"],
        }
    }

    fn tag(&self) -> String {
        let field = match self.field {
            OrderField::Created => "CREATED",
            OrderField::Updated => "UPDATED",
            OrderField::SlaDeadline => "SLA_DEADLINE",
            OrderField::Priority => "PRIORITY",
            OrderField::Relevance => "RELEVANCE",
        };
        format!("{field}.{}", if self.descending { "DESC" } else { "ASC" })
    }

    /// ` ORDER BY k1 DIR, ..., complaint_id DIR`.
    pub fn order_by(&self) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        let keys: Vec<String> = self
            .columns()
            .iter()
            .chain(&["complaint_id"])
            .map(|c| format!("{c} {dir}"))
            .collect();
        format!(" ORDER BY {}", keys.join(", "))
    }

    /// The row's sort key (what the generated columns hold for it).
    pub fn key_of(&self, row: &SummaryRow) -> Vec<SortValue> {
        let due = SortValue::At(due_key(row));
        match self.field {
            OrderField::Created => vec![SortValue::At(row.created_at)],
            OrderField::Updated => vec![SortValue::At(row.updated_at)],
            OrderField::SlaDeadline => vec![due],
            OrderField::Priority => vec![SortValue::Rank(priority_rank(&row.priority)), due],
            OrderField::Relevance => vec![SortValue::Rank(row.search_rank.unwrap_or_default())],
        }
    }
}

/// `due_key` as the migrations generate it.
pub fn due_key(row: &SummaryRow) -> DateTime<Utc> {
    match (row.sla_state.as_deref(), row.sla_deadline) {
        (Some(state), Some(deadline)) if state != "MET" => deadline,
        _ => no_clock(),
    }
}

/// `priority_rank` as the migrations generate it (the domain's `Priority::rank`).
pub fn priority_rank(priority: &str) -> i64 {
    aduan_domain::Priority::ALL
        .iter()
        .find(|p| p.as_str() == priority)
        .map_or(4, |p| i64::from(p.rank()))
}

/// Where a page starts: after this row in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub order: SummaryOrder,
    pub key: Vec<SortValue>,
    pub complaint_id: String,
}

impl Keyset {
    /// The cursor after `row` in `order`.
    pub fn of(order: SummaryOrder, row: &SummaryRow) -> Keyset {
        Keyset {
            order,
            key: order.key_of(row),
            complaint_id: row.complaint_id.clone(),
        }
    }

    /// A cursor of the default order (newest first).
    pub fn created(created_at: DateTime<Utc>, complaint_id: impl Into<String>) -> Keyset {
        Keyset {
            order: SummaryOrder::default(),
            key: vec![SortValue::At(created_at)],
            complaint_id: complaint_id.into(),
        }
    }

    /// The default order keeps the cursors lists gave before orders existed
    /// (`created_at|id`); the others are `ORDER|k1|...|id`.
    pub fn encode(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.order != SummaryOrder::default() {
            parts.push(self.order.tag());
        }
        parts.extend(self.key.iter().map(SortValue::text));
        parts.push(self.complaint_id.clone());
        hex::encode(parts.join("|"))
    }

    /// The cursor, if it is one of `order`'s.
    pub fn decode(cursor: &str, order: SummaryOrder) -> Option<Keyset> {
        let text = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
        let mut rest = text.as_str();
        if order != SummaryOrder::default() {
            rest = rest.strip_prefix(&order.tag())?.strip_prefix('|')?;
        }
        let n = order.columns().len();
        let parts: Vec<&str> = rest.splitn(n + 1, '|').collect();
        if parts.len() != n + 1 {
            return None;
        }
        let key = order
            .columns()
            .iter()
            .zip(&parts)
            .map(|(column, v)| match *column {
                "priority_rank" | "search_rank" => v.parse().ok().map(SortValue::Rank),
                _ => DateTime::parse_from_rfc3339(v)
                    .ok()
                    .map(|at| SortValue::At(at.with_timezone(&Utc))),
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Keyset {
            order,
            key,
            complaint_id: parts[n].to_string(),
        })
    }

    /// ` AND (k1, ..., complaint_id) > (...)` (`<` descending): the rows after it.
    pub fn push_after<'a, DB: Database>(&self, q: &mut QueryBuilder<'a, DB>)
    where
        String: Encode<'a, DB> + Type<DB>,
        DateTime<Utc>: Encode<'a, DB> + Type<DB>,
        i64: Encode<'a, DB> + Type<DB>,
    {
        let columns: Vec<&str> = self.order.columns().to_vec();
        let op = if self.order.descending { "<" } else { ">" };
        // Row values compare on both databases (SQLite since 3.15).
        q.push(format!(
            " AND ({}, complaint_id) {op} (",
            columns.join(", ")
        ));
        for v in &self.key {
            match v {
                SortValue::At(at) => q.push_bind(*at),
                SortValue::Rank(r) => q.push_bind(*r),
            };
            q.push(", ");
        }
        q.push_bind(self.complaint_id.clone()).push(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_per_order_and_other_orders_are_refused() {
        let at = Utc.timestamp_opt(1_800_000_000, 123_000).unwrap();
        let created = Keyset::created(at, "abc|def");
        let back = Keyset::decode(&created.encode(), SummaryOrder::default()).unwrap();
        assert_eq!(back, created);
        let by_priority = SummaryOrder {
            field: OrderField::Priority,
            descending: false,
        };
        let k = Keyset {
            order: by_priority,
            key: vec![SortValue::Rank(1), SortValue::At(no_clock())],
            complaint_id: "x|y".into(),
        };
        assert_eq!(Keyset::decode(&k.encode(), by_priority), Some(k.clone()));
        let reversed = SummaryOrder {
            descending: true,
            ..by_priority
        };
        assert_eq!(Keyset::decode(&k.encode(), reversed), None);
        assert_eq!(Keyset::decode(&k.encode(), SummaryOrder::default()), None);
        assert_eq!(Keyset::decode(&created.encode(), by_priority), None);
        assert_eq!(Keyset::decode("zz", SummaryOrder::default()), None);
        let garbage = hex::encode("no separator");
        assert_eq!(Keyset::decode(&garbage, SummaryOrder::default()), None);
    }

    #[test]
    fn the_clockless_sentinel_is_the_migrations_literal() {
        assert_eq!(no_clock().to_rfc3339(), "9999-12-31T23:59:59+00:00");
    }
}
