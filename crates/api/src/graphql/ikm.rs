//! `ikm`: the community satisfaction index by the national method
//! (PermenPANRB 14/2017), from the surveys citizens answered after closing.
//! The sums come from `survey_responses`; the index, exact, from the domain.

use async_graphql::{Context, Enum, Result, SimpleObject};
use chrono::{DateTime, Utc};

use aduan_domain::ikm::{self, Totals};
use aduan_projections::survey::{IkmGroupBy as Group, IkmRow};

use super::context::bus;
use super::error::store_error;
use super::replicas::query_reads;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum IkmGroupBy {
    /// The OPD the case was with when the citizen answered ('' for none).
    Opd,
    /// The month of the answer, city time (YYYY-MM).
    Month,
    Category,
}

/// The regulation's quality grade (mutu pelayanan).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ikm::Grade")]
pub enum IkmGrade {
    /// 88.31-100.00, "Sangat Baik".
    A,
    /// 76.61-88.30, "Baik".
    B,
    /// 65.00-76.60, "Kurang Baik".
    C,
    /// 25.00-64.99, "Tidak Baik".
    D,
}

/// One element (unsur) of the survey.
#[derive(SimpleObject)]
pub struct IkmElement {
    /// U1..U9.
    pub code: String,
    pub name: String,
    /// The sum of its answers (1-4 each).
    pub sum: i64,
    /// Its NRR: sum / respondents; null without respondents.
    pub nrr: Option<f64>,
}

/// The index over a set of respondents.
#[derive(SimpleObject)]
pub struct IkmFigures {
    /// The group's key ('' for the whole range).
    pub key: String,
    pub respondents: i64,
    /// In the city's order of the elements.
    pub elements: Vec<IkmElement>,
    /// Σ NRR x 1/9 x 25, rounded half up to hundredths; null without respondents.
    pub ikm: Option<f64>,
    pub grade: Option<IkmGrade>,
    /// "Sangat Baik", "Baik", "Kurang Baik" or "Tidak Baik".
    pub grade_label: Option<String>,
}

/// The IKM of an OPD (or the city) for surveys answered in `[from, to)`.
#[derive(SimpleObject)]
pub struct Ikm {
    /// The OPD, or null for the whole city.
    pub opd: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// All respondents of the range together.
    pub total: IkmFigures,
    /// Per `groupBy` (empty without it).
    pub groups: Vec<IkmFigures>,
}

fn figures(ctx: &Context<'_>, key: String, totals: &Totals) -> Result<IkmFigures> {
    let elements = bus(ctx)?.services().reference.survey();
    let ikm = totals.ikm();
    Ok(IkmFigures {
        key,
        respondents: totals.respondents,
        elements: elements
            .into_iter()
            .filter_map(|e| {
                let i = ikm::index_of(&e.code)?;
                Some(IkmElement {
                    code: e.code,
                    name: e.name,
                    sum: totals.sums[i],
                    nrr: ikm.as_ref().map(|x| x.nrr[i]),
                })
            })
            .collect(),
        ikm: ikm.as_ref().map(ikm::Ikm::value),
        grade: ikm.as_ref().map(|x| x.grade.into()),
        grade_label: ikm.as_ref().map(|x| x.grade.label().to_string()),
    })
}

/// The report; `opd` already scoped by the caller's access.
pub async fn report(
    ctx: &Context<'_>,
    opd: Option<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group_by: Option<IkmGroupBy>,
) -> Result<Ikm> {
    let group = group_by.map(|g| match g {
        IkmGroupBy::Opd => Group::Opd,
        IkmGroupBy::Month => Group::Month,
        IkmGroupBy::Category => Group::Category,
    });
    let rows: Vec<IkmRow> = query_reads(ctx, &[], None)
        .await?
        .ikm(from, to, group, opd.as_deref())
        .await
        .map_err(store_error)?;
    // The whole range adds the groups' integer sums: exact, and one query.
    let mut total = Totals::default();
    for row in &rows {
        let t = row.totals();
        total.respondents += t.respondents;
        for (sum, add) in total.sums.iter_mut().zip(t.sums) {
            *sum += add;
        }
    }
    let groups = if group.is_some() {
        rows.iter()
            .map(|r| figures(ctx, r.key.clone(), &r.totals()))
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    Ok(Ikm {
        opd,
        from,
        to,
        total: figures(ctx, String::new(), &total)?,
        groups,
    })
}
