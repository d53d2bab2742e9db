//! `hotspots`: where cases cluster, per H3 cell or per kelurahan, for maps.
//! `/geo/hotspots.geojson` (`crate::geojson`) serves the same answer as a
//! GeoJSON FeatureCollection, through this resolver and so under its access.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;
use aduan_domain::geo;
use aduan_domain::ReferenceData;
use aduan_projections::hotspots_query::{CellCount, HotspotFilter, KelurahanCount, RESOLUTIONS};

use super::access::guard;
use super::context::bus;
use super::dashboard::{check_range, default_range, scoped_opd};
use super::error::{invalid_input, store_error};
use super::freshness;
use super::replicas::query_reads;

/// The cells' resolution when none is asked for: cells of about 0.7 km²,
/// a few city blocks.
pub const DEFAULT_RESOLUTION: i32 = 8;

/// What cases are grouped by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum HotspotGrouping {
    /// H3 cells at `resolution`.
    Cell,
    /// The kelurahan cases were placed in (cases without one are left out).
    Kelurahan,
}

/// One place's cases.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct Hotspot {
    /// The H3 cell (hex, as H3 tools write it); null by kelurahan.
    pub cell: Option<String>,
    /// The cell's resolution; null by kelurahan.
    pub resolution: Option<i32>,
    /// The kelurahan's code; null by cell.
    pub kelurahan: Option<String>,
    pub kecamatan: Option<String>,
    /// The cell's centre, or the mean place of the kelurahan's cases.
    pub latitude: f64,
    pub longitude: f64,
    /// Cases created in the range.
    pub count: i64,
    /// Of them, those not closed or rejected.
    pub open_count: i64,
    /// Of them, those whose SLA standing is BREACHED now (open ones past a
    /// deadline, closed ones that were closed late).
    pub breached_count: i64,
}

#[derive(Default)]
pub struct HotspotsQuery;

#[Object]
impl HotspotsQuery {
    /// Where cases created in `[from, to)` cluster, most cases first: per H3
    /// cell at `resolution` (5-9, default 8) or per kelurahan (`by`), of a
    /// category and an OPD when given. Read as `dashboard` is: OPD roles see
    /// their own OPD's cases only; without `from`, the last 30 days.
    #[allow(clippy::too_many_arguments, reason = "one argument per filter")]
    async fn hotspots(
        &self,
        ctx: &Context<'_>,
        category: Option<String>,
        opd: Option<String>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        resolution: Option<i32>,
        by: Option<HotspotGrouping>,
        min_position: Option<i64>,
    ) -> Result<Vec<Hotspot>> {
        let (_, scope) = guard(ctx, Operation::Hotspots)?;
        let services = bus(ctx)?.services();
        let now = services.clock.now();
        let (from, to) = default_range(ctx, from, to, now)?;
        check_range(from, to)?;
        let resolution = resolution.unwrap_or(DEFAULT_RESOLUTION);
        let res = checked(
            &services.reference,
            category.as_deref(),
            opd.as_deref(),
            resolution,
        )?;
        let opd = scoped_opd(scope, opd)?;
        let reads = query_reads(ctx, &[freshness::SUMMARY], min_position).await?;
        let filter = HotspotFilter {
            category,
            opd,
            from,
            to,
            now,
        };

        if by == Some(HotspotGrouping::Kelurahan) {
            let rows = reads
                .hotspot_kelurahan(&filter)
                .await
                .map_err(store_error)?;
            return Ok(rows.into_iter().map(Hotspot::of_kelurahan).collect());
        }
        let cells = reads
            .hotspot_cells(&filter, res)
            .await
            .map_err(store_error)?;
        Ok(cells
            .into_iter()
            .filter_map(|c| Hotspot::of_cell(c, resolution))
            .collect())
    }
}

/// The resolution as a number H3 takes, once the filters are known to the city.
fn checked(
    reference: &ReferenceData,
    category: Option<&str>,
    opd: Option<&str>,
    resolution: i32,
) -> Result<u8> {
    if let Some(c) = category.filter(|c| reference.category(c).is_none()) {
        return Err(invalid_input(
            "category",
            &format!("unknown category {c:?}"),
        ));
    }
    if let Some(o) = opd.filter(|o| reference.opd(o).is_none()) {
        return Err(invalid_input("opd", &format!("unknown OPD {o:?}")));
    }
    u8::try_from(resolution)
        .ok()
        .filter(|r| RESOLUTIONS.contains(r))
        .ok_or_else(|| invalid_input("resolution", "must be between 5 and 9"))
}

impl Hotspot {
    fn of_kelurahan(k: KelurahanCount) -> Hotspot {
        Hotspot {
            cell: None,
            resolution: None,
            kelurahan: Some(k.kelurahan),
            kecamatan: k.kecamatan,
            latitude: k.latitude,
            longitude: k.longitude,
            count: k.cases,
            open_count: k.open,
            breached_count: k.breached,
        }
    }

    fn of_cell(c: CellCount, resolution: i32) -> Option<Hotspot> {
        let (latitude, longitude) = geo::centre(c.h3_cell)?;
        Some(Hotspot {
            cell: Some(geo::cell_name(c.h3_cell)),
            resolution: Some(resolution),
            kelurahan: None,
            kecamatan: None,
            latitude,
            longitude,
            count: c.cases,
            open_count: c.open,
            breached_count: c.breached,
        })
    }
}
