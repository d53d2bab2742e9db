//! Projection rows as plain values, computed without a database, and the one
//! statement shape that writes them (a multi-row upsert) on either database.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use aduan_store::{EventLog, StoreError, StoredEvent};

/// One value of a row, typed even when null (PostgreSQL types every parameter).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(bool),
    Time(Option<DateTime<Utc>>),
    Json(serde_json::Value),
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(Some(v.to_string()))
    }
}

impl From<Option<&str>> for Cell {
    fn from(v: Option<&str>) -> Self {
        Cell::Text(v.map(str::to_string))
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(Some(v))
    }
}

impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Self {
        Cell::Int(v)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Float(Some(v))
    }
}

impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Bool(v)
    }
}

impl From<DateTime<Utc>> for Cell {
    fn from(v: DateTime<Utc>) -> Self {
        Cell::Time(Some(v))
    }
}

impl From<Option<DateTime<Utc>>> for Cell {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Cell::Time(v)
    }
}

/// The shape of a projection's table as the upsert needs it.
#[derive(Debug)]
pub struct TableSpec {
    pub columns: &'static [&'static str],
    /// The conflict target (the primary key).
    pub key: &'static [&'static str],
    /// Columns that add the new value to the stored one instead of replacing it.
    pub accumulate: &'static [&'static str],
}

impl TableSpec {
    /// How many rows one statement may carry: PostgreSQL allows 65,535 bind
    /// parameters per statement, SQLite 32,766.
    pub fn rows_per_statement(&self) -> usize {
        (32_766 / self.columns.len()).max(1)
    }

    /// `INSERT INTO table (...) ` for the builder to append VALUES to.
    pub fn insert_head(&self, table: &str) -> String {
        format!("INSERT INTO {table} ({}) ", self.columns.join(", "))
    }

    /// ` ON CONFLICT (key) DO UPDATE SET ...`: the same text on both databases.
    pub fn on_conflict(&self, table: &str) -> String {
        let set: Vec<String> = self
            .columns
            .iter()
            .filter(|c| !self.key.contains(c))
            .map(|c| {
                if self.accumulate.contains(c) {
                    format!("{c} = {table}.{c} + excluded.{c}")
                } else {
                    format!("{c} = excluded.{c}")
                }
            })
            .collect();
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            self.key.join(", "),
            set.join(", ")
        )
    }
}

/// A multi-row upsert of `rows` into `table`, for the caller to execute.
pub fn upsert<'a, DB>(spec: &TableSpec, table: &str, rows: &'a [Vec<Cell>]) -> QueryBuilder<'a, DB>
where
    DB: Database,
    Option<String>: Encode<'a, DB> + Type<DB>,
    Option<i64>: Encode<'a, DB> + Type<DB>,
    Option<f64>: Encode<'a, DB> + Type<DB>,
    bool: Encode<'a, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'a, DB> + Type<DB>,
    serde_json::Value: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(spec.insert_head(table));
    q.push_values(rows, |mut b, row| {
        for cell in row {
            match cell {
                Cell::Text(v) => b.push_bind(v.clone()),
                Cell::Int(v) => b.push_bind(*v),
                Cell::Float(v) => b.push_bind(*v),
                Cell::Bool(v) => b.push_bind(*v),
                Cell::Time(v) => b.push_bind(*v),
                Cell::Json(v) => b.push_bind(v.clone()),
            };
        }
    });
    q.push(spec.on_conflict(table));
    q
}

/// The same upsert on PostgreSQL with one array parameter per column
/// (`INSERT ... SELECT * FROM unnest(...)`): a statement of a few binds instead of
/// one per value, which PostgreSQL parses and plans far faster for large batches.
/// `rows` must not be empty (its first row gives the column types).
pub fn upsert_unnest<'a>(
    spec: &TableSpec,
    table: &str,
    rows: &'a [Vec<Cell>],
) -> QueryBuilder<'a, sqlx::Postgres> {
    let mut q = QueryBuilder::new(spec.insert_head(table));
    q.push("SELECT * FROM unnest(");
    for (i, cell) in rows[0].iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        match cell {
            Cell::Text(_) => {
                let col: Vec<Option<String>> = rows
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Text(v) => v.clone(),
                        _ => None,
                    })
                    .collect();
                q.push_bind(col).push("::text[]");
            }
            Cell::Int(_) => {
                let col: Vec<Option<i64>> = rows
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Int(v) => *v,
                        _ => None,
                    })
                    .collect();
                q.push_bind(col).push("::int8[]");
            }
            Cell::Float(_) => {
                let col: Vec<Option<f64>> = rows
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Float(v) => *v,
                        _ => None,
                    })
                    .collect();
                q.push_bind(col).push("::float8[]");
            }
            Cell::Bool(_) => {
                let col: Vec<bool> = rows
                    .iter()
                    .map(|r| matches!(&r[i], Cell::Bool(true)))
                    .collect();
                q.push_bind(col).push("::bool[]");
            }
            Cell::Time(_) => {
                let col: Vec<Option<DateTime<Utc>>> = rows
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Time(v) => *v,
                        _ => None,
                    })
                    .collect();
                q.push_bind(col).push("::timestamptz[]");
            }
            Cell::Json(_) => {
                let col: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Json(v) => v.clone(),
                        _ => serde_json::Value::Null,
                    })
                    .collect();
                q.push_bind(col).push("::jsonb[]");
            }
        }
    }
    q.push(")");
    q.push(spec.on_conflict(table));
    q
}

/// A complaint a batch touched: its history up to its last event in the batch.
pub struct Touched {
    pub history: Vec<StoredEvent>,
    /// How many of the history's events the batch holds (the tail).
    pub in_batch: i64,
}

impl Touched {
    pub fn last(&self) -> Option<&StoredEvent> {
        self.history.last()
    }
}

/// The complaints `batch` touches, with their histories loaded in one query:
/// projections that recompute a complaint's rows from its whole history write each
/// complaint once per batch, however many of its events the batch holds.
pub async fn touched(
    log: &dyn EventLog,
    batch: &[StoredEvent],
) -> Result<Vec<Touched>, StoreError> {
    let mut up_to: Vec<(String, i64)> = Vec::new();
    let mut counts: std::collections::HashMap<&str, (usize, i64)> = Default::default();
    for event in batch {
        let entry = counts
            .entry(event.aggregate_id.as_str())
            .or_insert_with(|| {
                up_to.push((event.aggregate_id.clone(), event.sequence));
                (up_to.len() - 1, 0)
            });
        up_to[entry.0].1 = up_to[entry.0].1.max(event.sequence);
        entry.1 += 1;
    }
    let histories = log.load_histories(&up_to).await?;
    Ok(histories
        .into_iter()
        .map(|(id, history)| Touched {
            in_batch: counts.get(id.as_str()).map_or(0, |c| c.1),
            history,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upsert_replaces_all_but_the_key_and_adds_up_counters() {
        let spec = TableSpec {
            columns: &["id", "name", "n"],
            key: &["id"],
            accumulate: &["n"],
        };
        assert_eq!(spec.insert_head("t"), "INSERT INTO t (id, name, n) ");
        assert_eq!(
            spec.on_conflict("t"),
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, n = t.n + excluded.n"
        );
    }
}
