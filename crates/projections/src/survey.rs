//! `survey_responses`: one row per answered satisfaction survey (IKM), and the
//! query that adds them up. The rows hold the nine scores as integers; the
//! query returns integer sums per group, and the index itself is computed
//! exactly from them by the domain (`aduan_domain::ikm`), never in SQL floats.

use chrono::{DateTime, FixedOffset, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use aduan_domain::ikm::{self, Totals, CODES, ELEMENTS};
use aduan_domain::ComplaintEvent;
use aduan_store::codec;

use crate::projector::Projection;
use crate::rows::{Cell, TableSpec, Touched};

/// The `survey_responses` projection (or a shadow copy during a rebuild).
#[derive(Clone)]
pub struct SurveyResponses {
    table: String,
    /// The city's UTC offset: which local day (and month) an answer belongs to.
    offset: FixedOffset,
}

impl SurveyResponses {
    pub fn new(offset: FixedOffset) -> Self {
        SurveyResponses {
            table: "survey_responses".into(),
            offset,
        }
    }
}

static SPEC: TableSpec = TableSpec {
    columns: &[
        "complaint_id",
        "opd",
        "category",
        "answered_at",
        "answered_day",
        "u1",
        "u2",
        "u3",
        "u4",
        "u5",
        "u6",
        "u7",
        "u8",
        "u9",
        "last_position",
    ],
    key: &["complaint_id"],
    accumulate: &[],
};

impl SurveyResponses {
    /// The complaint's row once its survey is answered: the case as it stood
    /// when the citizen answered (the OPD that closed it is the one judged,
    /// even if the case moves later).
    fn row(&self, touched: Touched) -> Option<Vec<Cell>> {
        let at = touched
            .history
            .iter()
            .position(|e| matches!(e.event, ComplaintEvent::SurveyAnswered { .. }))?;
        let stored = &touched.history[at];
        let ComplaintEvent::SurveyAnswered {
            answers,
            occurred_at,
        } = &stored.event
        else {
            return None;
        };
        let case = codec::fold(&touched.history[..=at]).0?;
        let mut scores = [0i64; ELEMENTS];
        for a in answers {
            if let Some(i) = ikm::index_of(&a.element) {
                scores[i] = i64::from(a.score);
            }
        }
        let day = occurred_at
            .with_timezone(&self.offset)
            .format("%Y-%m-%d")
            .to_string();
        let mut row: Vec<Cell> = vec![
            case.id.as_str().into(),
            case.opd.as_deref().into(),
            case.category.as_str().into(),
            (*occurred_at).into(),
            day.as_str().into(),
        ];
        row.extend(scores.map(Cell::from));
        row.push(stored.position.into());
        Some(row)
    }
}

impl Projection for SurveyResponses {
    fn name(&self) -> &str {
        &self.table
    }

    fn renamed(&self, name: &str) -> Self {
        SurveyResponses {
            table: name.to_string(),
            ..self.clone()
        }
    }

    fn spec(&self) -> &'static TableSpec {
        &SPEC
    }

    fn rows(&self, touched: Vec<Touched>) -> Vec<Vec<Cell>> {
        touched.into_iter().filter_map(|t| self.row(t)).collect()
    }
}

/// How IKM figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IkmGroupBy {
    /// The OPD the case was with when the citizen answered ('' for none).
    Opd,
    /// The local (city time) month of the answer, `YYYY-MM`.
    Month,
    Category,
}

/// One group's respondents and the integer sum of each element's answers.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IkmRow {
    pub key: String,
    pub respondents: i64,
    pub u1: i64,
    pub u2: i64,
    pub u3: i64,
    pub u4: i64,
    pub u5: i64,
    pub u6: i64,
    pub u7: i64,
    pub u8: i64,
    pub u9: i64,
}

impl IkmRow {
    pub fn totals(&self) -> Totals {
        Totals {
            respondents: self.respondents,
            sums: [
                self.u1, self.u2, self.u3, self.u4, self.u5, self.u6, self.u7, self.u8, self.u9,
            ],
        }
    }
}

/// The sums of the surveys answered in `[from, to)`, per group (one group,
/// key '', without `group`), for one OPD or the city. The same text on both
/// databases: sums are cast to BIGINT (PostgreSQL's `sum(bigint)` is numeric).
pub fn ikm_query<'a, DB: Database>(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group: Option<IkmGroupBy>,
    opd: Option<&str>,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let key = match group {
        None => "''",
        Some(IkmGroupBy::Opd) => "coalesce(opd, '')",
        Some(IkmGroupBy::Month) => "substr(answered_day, 1, 7)",
        Some(IkmGroupBy::Category) => "category",
    };
    let sums: Vec<String> = CODES
        .iter()
        .map(|c| {
            let col = c.to_lowercase();
            format!("coalesce(CAST(sum({col}) AS BIGINT), 0) AS {col}")
        })
        .collect();
    let mut q = QueryBuilder::new(format!(
        "SELECT {key} AS key, count(*) AS respondents, {} \
         FROM survey_responses WHERE answered_at >= ",
        sums.join(", ")
    ));
    q.push_bind(from).push(" AND answered_at < ").push_bind(to);
    crate::dashboard::and_opd(&mut q, opd);
    if group.is_some() {
        q.push(format!(" GROUP BY {key} ORDER BY {key}"));
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_groups_by_the_asked_key_and_sums_as_integers() {
        let t = DateTime::UNIX_EPOCH;
        let sql = ikm_query::<sqlx::Sqlite>(t, t, Some(IkmGroupBy::Month), Some("DPU")).into_sql();
        assert!(sql.contains("GROUP BY substr(answered_day, 1, 7)"), "{sql}");
        assert!(sql.contains("CAST(sum(u9) AS BIGINT)"), "{sql}");
        assert!(sql.contains("AND opd = "), "{sql}");
        let all = ikm_query::<sqlx::Postgres>(t, t, None, None).into_sql();
        assert!(!all.contains("GROUP BY"), "{all}");
    }
}
