//! Reads by place: a circle's cases nearest first, newest first, or counted.
//! The database narrows by index cell and a box around the circle; the exact
//! great-circle distance (`aduan_domain::geo`) decides here, the same way on
//! both databases.

use aduan_domain::places::{Bounds, Circle};
use aduan_store::StoreError;

use crate::reads::Reads;
use crate::summary_query::{split_page, Keyset, SummaryFilter, SummaryRow};

/// Most candidate rows a nearest-first read takes from the database: a circle
/// of at most `geo::MAX_RADIUS_M` over a bounded period stays far below it.
pub const MAX_CANDIDATES: i64 = 50_000;

/// A case near the point asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct Near {
    pub row: SummaryRow,
    pub distance_m: f64,
}

/// What a nearest-first read found.
#[derive(Debug, Clone, PartialEq)]
pub enum Nearest {
    Found(Vec<Near>),
    /// More than `MAX_CANDIDATES` cases lie in the circle's cells: the
    /// question must be narrowed (radius, period).
    TooMany,
}

/// `filter` narrowed to `circle`'s cells and box (the box also within any box
/// the filter has).
pub fn in_circle(filter: &SummaryFilter, circle: &Circle) -> SummaryFilter {
    let around = circle.bounds();
    let bounds = match filter.bounds {
        None => around,
        Some(b) => Bounds {
            south: b.south.max(around.south),
            west: b.west.max(around.west),
            north: b.north.min(around.north),
            east: b.east.min(around.east),
        },
    };
    SummaryFilter {
        cells: circle.cells(),
        bounds: Some(bounds),
        ..filter.clone()
    }
}

fn distance(circle: &Circle, row: &SummaryRow) -> Option<f64> {
    let d = circle.distance_m(row.latitude?, row.longitude?);
    (d <= circle.radius_m).then_some(d)
}

impl Reads {
    /// The cases in `circle` that match `filter`, nearest first (ties by id),
    /// at most `limit`.
    pub async fn nearest(
        &self,
        filter: &SummaryFilter,
        circle: &Circle,
        limit: usize,
    ) -> Result<Nearest, StoreError> {
        let near = in_circle(filter, circle);
        let rows = self.run(|b| b.rows(&near, MAX_CANDIDATES + 1)).await?;
        if rows.len() as i64 > MAX_CANDIDATES {
            return Ok(Nearest::TooMany);
        }
        let mut near: Vec<Near> = rows
            .into_iter()
            .filter_map(|row| {
                let distance_m = distance(circle, &row)?;
                Some(Near { row, distance_m })
            })
            .collect();
        near.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| a.row.complaint_id.cmp(&b.row.complaint_id))
        });
        near.truncate(limit);
        Ok(Nearest::Found(near))
    }

    /// One page of the cases in `circle` (newest first, as `page`) plus
    /// whether more follow. The database's pages hold the box's corners too,
    /// so they are read on until the page is full or the rows end.
    pub async fn page_near(
        &self,
        filter: &SummaryFilter,
        circle: &Circle,
        after: Option<&Keyset>,
        first: i64,
    ) -> Result<(Vec<SummaryRow>, bool), StoreError> {
        let filter = in_circle(filter, circle);
        let wanted = usize::try_from(first + 1).unwrap_or(usize::MAX);
        let batch = (first + 1).max(50);
        let mut cursor = after.cloned();
        let mut kept = Vec::new();
        loop {
            let (rows, more) = self.page(&filter, cursor.as_ref(), batch).await?;
            cursor = rows.last().map(|r| Keyset::of(filter.order, r));
            kept.extend(rows.into_iter().filter(|r| distance(circle, r).is_some()));
            if kept.len() >= wanted || !more {
                break;
            }
        }
        Ok(split_page(kept, first))
    }

    /// How many cases in `circle` match `filter`.
    pub async fn count_near(
        &self,
        filter: &SummaryFilter,
        circle: &Circle,
    ) -> Result<i64, StoreError> {
        let near = in_circle(filter, circle);
        let points = self.run(|b| b.points(&near)).await?;
        Ok(points
            .into_iter()
            .filter(|p| match p {
                (Some(lat), Some(lon)) => circle.contains(*lat, *lon),
                _ => false,
            })
            .count() as i64)
    }
}
