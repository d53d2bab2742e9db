//! Where cases lie relative to each other: great-circle distances, and the
//! H3 cells that index a case's place the same way on SQLite and PostgreSQL
//! (no PostGIS): a radius or box query reads the few cells that can hold an
//! answer, then keeps the cases whose exact distance or coordinates qualify.

use h3o::{CellIndex, LatLng, Resolution};

/// The resolution cases are indexed at: cells of about 0.1 km² (edges of
/// about 174 m), so a 250 m radius reads a few dozen cells and a 1 km one
/// about a hundred.
pub const INDEX_RESOLUTION: Resolution = Resolution::Nine;

/// The mean earth radius (IUGG), in meters.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The widest radius a query may ask for: wider ones are box queries.
pub const MAX_RADIUS_M: f64 = 5_000.0;

/// The index cell of a point, as stored (`h3_cell`): H3 indexes fit in 63
/// bits, so the signed column both databases have holds them unchanged.
pub fn cell(latitude: f64, longitude: f64) -> Option<i64> {
    let point = LatLng::new(latitude, longitude).ok()?;
    i64::try_from(u64::from(point.to_cell(INDEX_RESOLUTION))).ok()
}

/// The great-circle (haversine) distance between two points, in meters.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Every index cell that may hold a point within `radius_m` of the centre:
/// a superset, to be narrowed by [`distance_m`]. Neighbouring cell centres
/// lie at least `edge * sqrt(3) * 0.8` apart anywhere on earth (H3 cells
/// vary by less than that in size), so that many rings, plus one for the
/// cell's own extent, cover the circle.
pub fn cells_near(latitude: f64, longitude: f64, radius_m: f64) -> Vec<i64> {
    let Ok(centre) = LatLng::new(latitude, longitude) else {
        return Vec::new();
    };
    let spacing = INDEX_RESOLUTION.edge_length_m() * 3f64.sqrt() * 0.8;
    let rings = (radius_m.clamp(0.0, MAX_RADIUS_M) / spacing).ceil() as u32 + 1;
    let disk: Vec<CellIndex> = centre.to_cell(INDEX_RESOLUTION).grid_disk(rings);
    disk.into_iter()
        .filter_map(|c| i64::try_from(u64::from(c)).ok())
        .collect()
}

/// The cell at a coarser `resolution` (0..=9) that contains a stored index
/// cell: hotspot maps group cases by it.
pub fn parent(cell: i64, resolution: u8) -> Option<i64> {
    let index = CellIndex::try_from(u64::try_from(cell).ok()?).ok()?;
    let resolution = Resolution::try_from(resolution).ok()?;
    let parent = index.parent(resolution)?;
    i64::try_from(u64::from(parent)).ok()
}

/// A cell's centre as (latitude, longitude), for maps.
pub fn centre(cell: i64) -> Option<(f64, f64)> {
    let index = CellIndex::try_from(u64::try_from(cell).ok()?).ok()?;
    let centre = LatLng::from(index);
    Some((centre.lat(), centre.lng()))
}

/// A cell's outline as (latitude, longitude) vertices, for maps.
pub fn outline(cell: i64) -> Vec<(f64, f64)> {
    let Some(index) = u64::try_from(cell)
        .ok()
        .and_then(|c| CellIndex::try_from(c).ok())
    else {
        return Vec::new();
    };
    index
        .boundary()
        .iter()
        .map(|v| (v.lat(), v.lng()))
        .collect()
}

/// A cell's index as H3 tools write it (lower-case hex).
pub fn cell_name(cell: i64) -> String {
    format!("{cell:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOSARI: (f64, f64) = (-5.1436, 119.4075);

    #[test]
    fn distances_match_known_ones() {
        assert_eq!(distance_m(LOSARI, LOSARI), 0.0);
        // One degree of latitude is 111.2 km on the mean sphere.
        let degree = distance_m((0.0, 0.0), (1.0, 0.0));
        assert!((degree - 111_195.0).abs() < 1.0, "{degree}");
        // Makassar to Jakarta, about 1,400 km.
        let jakarta = distance_m(LOSARI, (-6.2, 106.8167));
        assert!((1_390_000.0..1_410_000.0).contains(&jakarta), "{jakarta}");
    }

    #[test]
    fn a_point_is_in_its_own_cell_and_cells_read_back() {
        let c = cell(LOSARI.0, LOSARI.1).unwrap();
        assert!(c > 0);
        assert!(cells_near(LOSARI.0, LOSARI.1, 0.0).contains(&c));
        assert_eq!(cell_name(c).len(), 15);
        assert_eq!(cell(f64::NAN, 0.0), None);
        assert_eq!(outline(c).len(), 6);
    }

    /// The covering is a superset: every point within the radius, in every
    /// direction and at many distances, falls in one of its cells.
    #[test]
    fn the_cells_near_a_point_cover_every_point_within_the_radius() {
        for radius in [50.0, 250.0, 400.0, 1_000.0, 5_000.0] {
            let cover = cells_near(LOSARI.0, LOSARI.1, radius);
            for step in 0..72 {
                let bearing = f64::from(step) * 5.0_f64.to_radians();
                for fraction in [0.25, 0.5, 0.9, 0.999] {
                    let d = radius * fraction;
                    let dlat = d * bearing.cos() / 111_195.0;
                    let dlon = d * bearing.sin() / (111_195.0 * LOSARI.0.to_radians().cos());
                    let p = (LOSARI.0 + dlat, LOSARI.1 + dlon);
                    assert!(distance_m(LOSARI, p) <= radius);
                    let c = cell(p.0, p.1).unwrap();
                    assert!(cover.contains(&c), "{radius} m, {p:?}");
                }
            }
        }
    }

    #[test]
    fn parents_group_cells_and_refuse_finer_resolutions() {
        let c = cell(LOSARI.0, LOSARI.1).unwrap();
        let p7 = parent(c, 7).unwrap();
        assert_eq!(parent(p7, 7), Some(p7));
        assert_eq!(parent(c, 9), Some(c));
        assert_eq!(parent(c, 10), None);
        assert_eq!(parent(-1, 7), None);
    }
}
