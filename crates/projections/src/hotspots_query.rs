//! Where cases cluster (`hotspots`): `complaint_summary` counted per stored
//! H3 cell (resolution 9) or per kelurahan, in SQL both databases read the
//! same; cells are then rolled up to the coarser resolution asked for here,
//! since neither database knows H3 (`geo::parent`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use aduan_domain::geo;

use crate::summary_query::push_sla_state;

/// Which cases are counted: created in `[from, to)`, of the category and OPD
/// when given; SLA standings as of `now`.
#[derive(Debug, Clone)]
pub struct HotspotFilter {
    pub category: Option<String>,
    pub opd: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// The counts of one index cell.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CellCount {
    pub h3_cell: i64,
    pub cases: i64,
    pub open: i64,
    pub breached: i64,
}

/// The counts of one kelurahan, with the mean place of its cases.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KelurahanCount {
    pub kelurahan: String,
    pub kecamatan: Option<String>,
    pub cases: i64,
    pub open: i64,
    pub breached: i64,
    pub latitude: f64,
    pub longitude: f64,
}

/// Cases not closed or rejected (as the dashboard counts them).
const OPEN: &str = "status NOT IN ('CLOSED', 'REJECTED')";

fn push_counts<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, now: DateTime<Utc>)
where
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    q.push(format!(
        "count(*) AS cases, count(*) FILTER (WHERE {OPEN}) AS open, count(*) FILTER (WHERE "
    ));
    push_sla_state(q, now);
    q.push(" = 'BREACHED') AS breached FROM complaint_summary");
}

/// The filter; cases at 0,0 (an Open311 report given by its address alone)
/// have no place to show.
fn push_where<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, f: &HotspotFilter)
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    q.push(" WHERE created_at >= ")
        .push_bind(f.from)
        .push(" AND created_at < ")
        .push_bind(f.to)
        .push(" AND NOT (latitude = 0 AND longitude = 0)");
    if let Some(category) = &f.category {
        q.push(" AND category = ").push_bind(category.clone());
    }
    if let Some(opd) = &f.opd {
        q.push(" AND opd = ").push_bind(opd.clone());
    }
}

/// Counts per stored (resolution 9) cell of the cases created in the range.
pub fn cells_query<'a, DB: Database>(f: &HotspotFilter) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new("SELECT h3_cell, ");
    push_counts(&mut q, f.now);
    push_where(&mut q, f);
    q.push(" AND h3_cell IS NOT NULL GROUP BY h3_cell");
    q
}

pub fn kelurahan_query<'a, DB: Database>(f: &HotspotFilter) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(
        "SELECT kelurahan, max(kecamatan) AS kecamatan, \
         avg(latitude) AS latitude, avg(longitude) AS longitude, ",
    );
    push_counts(&mut q, f.now);
    push_where(&mut q, f);
    q.push(" AND kelurahan IS NOT NULL GROUP BY kelurahan");
    q
}

/// The coarsest and finest resolutions a map may ask for: cells of about
/// 250 km² down to the stored 0.1 km².
pub const RESOLUTIONS: std::ops::RangeInclusive<u8> = 5..=9;

/// The cells at `resolution` (within `RESOLUTIONS`), most cases first (then
/// by cell, so the order is stable).
pub fn roll_up(cells: &[CellCount], resolution: u8) -> Vec<CellCount> {
    let mut by_parent: BTreeMap<i64, CellCount> = BTreeMap::new();
    for c in cells {
        let Some(parent) = geo::parent(c.h3_cell, resolution) else {
            continue;
        };
        let sum = by_parent.entry(parent).or_insert(CellCount {
            h3_cell: parent,
            cases: 0,
            open: 0,
            breached: 0,
        });
        sum.cases += c.cases;
        sum.open += c.open;
        sum.breached += c.breached;
    }
    let mut out: Vec<CellCount> = by_parent.into_values().collect();
    out.sort_by(|a, b| b.cases.cmp(&a.cases).then(a.h3_cell.cmp(&b.h3_cell)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_roll_up_to_their_parents_and_sum() {
        let near = |lat, lon| geo::cell(lat, lon).unwrap();
        // Two points 100 m apart share their resolution-7 cell; a third 10 km away does not.
        let (a, b, far) = (
            near(-5.1477, 119.4327),
            near(-5.1486, 119.4327),
            near(-5.06, 119.50),
        );
        let count = |h3_cell, cases, open, breached| CellCount {
            h3_cell,
            cases,
            open,
            breached,
        };
        let cells = [count(a, 3, 2, 1), count(b, 2, 1, 0), count(far, 1, 1, 1)];
        let up = roll_up(&cells, 7);
        assert_eq!(up.len(), 2, "{up:?}");
        assert_eq!(up[0], count(geo::parent(a, 7).unwrap(), 5, 3, 1));
        assert_eq!(up[1], count(geo::parent(far, 7).unwrap(), 1, 1, 1));
        // At the stored resolution nothing merges unless it was one cell.
        let same = roll_up(&cells, 9);
        assert_eq!(same.iter().map(|c| c.cases).sum::<i64>(), 6);
        assert!(same
            .iter()
            .all(|c| cells.iter().any(|x| x.h3_cell == c.h3_cell)));
    }
}
