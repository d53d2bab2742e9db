//! What a "where" question asks, checked: a circle (`near`) or a box
//! (`within`) on the map. Parsed at the edge, so a read never runs on a NaN,
//! an inverted box or a radius wider than the index serves.

use crate::error::ComplaintError;
use crate::geo;

/// Meters per degree of latitude on the mean sphere `geo` measures on.
const METERS_PER_DEGREE: f64 = 111_195.08;

fn coordinate(field: &str, value: f64, limit: f64) -> Result<f64, ComplaintError> {
    if value.is_finite() && (-limit..=limit).contains(&value) {
        Ok(value)
    } else {
        Err(ComplaintError::invalid(
            field,
            format!("must be a number from -{limit} to {limit}"),
        ))
    }
}

/// A point and a radius: the cases at most `radius_m` from the point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    pub latitude: f64,
    pub longitude: f64,
    pub radius_m: f64,
}

impl Circle {
    /// A circle of at most `max_radius_m`; a refusal names the field
    /// (`latitude`, `longitude`, `radius_meters`).
    pub fn parse(
        latitude: f64,
        longitude: f64,
        radius_m: f64,
        max_radius_m: f64,
    ) -> Result<Circle, ComplaintError> {
        let latitude = coordinate("latitude", latitude, 90.0)?;
        let longitude = coordinate("longitude", longitude, 180.0)?;
        if !(radius_m.is_finite() && radius_m > 0.0 && radius_m <= max_radius_m) {
            return Err(ComplaintError::invalid(
                "radius_meters",
                format!("must be more than 0 and at most {max_radius_m} m"),
            ));
        }
        Ok(Circle {
            latitude,
            longitude,
            radius_m,
        })
    }

    /// The index cells that can hold a case inside (a superset).
    pub fn cells(&self) -> Vec<i64> {
        geo::cells_near(self.latitude, self.longitude, self.radius_m)
    }

    /// A box holding the whole circle, with a margin: a coarse filter the
    /// database applies before the exact distance is taken.
    pub fn bounds(&self) -> Bounds {
        let dlat = self.radius_m / METERS_PER_DEGREE * 1.01 + 1e-6;
        let widest = (self.latitude.abs() + dlat).min(89.9).to_radians().cos();
        let dlon = (dlat / widest).min(180.0);
        Bounds {
            south: (self.latitude - dlat).max(-90.0),
            west: (self.longitude - dlon).max(-180.0),
            north: (self.latitude + dlat).min(90.0),
            east: (self.longitude + dlon).min(180.0),
        }
    }

    /// The great-circle distance from the centre, in meters.
    pub fn distance_m(&self, latitude: f64, longitude: f64) -> f64 {
        geo::distance_m((self.latitude, self.longitude), (latitude, longitude))
    }

    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        self.distance_m(latitude, longitude) <= self.radius_m
    }
}

/// A box between two parallels and two meridians, edges included (it does
/// not cross the antimeridian: no city needs it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

impl Bounds {
    /// A refusal names the field (`south`, `west`, `north`, `east`).
    pub fn parse(south: f64, west: f64, north: f64, east: f64) -> Result<Bounds, ComplaintError> {
        let south = coordinate("south", south, 90.0)?;
        let north = coordinate("north", north, 90.0)?;
        let west = coordinate("west", west, 180.0)?;
        let east = coordinate("east", east, 180.0)?;
        if south > north {
            return Err(ComplaintError::invalid(
                "south",
                "must not be north of north",
            ));
        }
        if west > east {
            return Err(ComplaintError::invalid("west", "must not be east of east"));
        }
        Ok(Bounds {
            south,
            west,
            north,
            east,
        })
    }

    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        (self.south..=self.north).contains(&latitude)
            && (self.west..=self.east).contains(&longitude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: ComplaintError) -> String {
        match e {
            ComplaintError::InvalidInput { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn circles_out_of_range_are_refused_by_field() {
        let max = geo::MAX_RADIUS_M;
        assert!(Circle::parse(-5.14, 119.41, 250.0, max).is_ok());
        assert_eq!(
            field(Circle::parse(-5.14, 119.41, 0.0, max).unwrap_err()),
            "radius_meters"
        );
        assert_eq!(
            field(Circle::parse(-5.14, 119.41, max + 1.0, max).unwrap_err()),
            "radius_meters"
        );
        assert_eq!(
            field(Circle::parse(-5.14, 119.41, f64::NAN, max).unwrap_err()),
            "radius_meters"
        );
        assert_eq!(
            field(Circle::parse(f64::NAN, 119.41, 9.0, max).unwrap_err()),
            "latitude"
        );
        assert_eq!(
            field(Circle::parse(-5.14, 181.0, 9.0, max).unwrap_err()),
            "longitude"
        );
    }

    #[test]
    fn boxes_must_be_ordered_and_in_range() {
        assert!(Bounds::parse(-5.2, 119.4, -5.1, 119.5).is_ok());
        assert_eq!(
            field(Bounds::parse(-5.1, 119.4, -5.2, 119.5).unwrap_err()),
            "south"
        );
        assert_eq!(
            field(Bounds::parse(-5.2, 119.5, -5.1, 119.4).unwrap_err()),
            "west"
        );
        assert_eq!(
            field(Bounds::parse(-91.0, 119.4, -5.1, 119.5).unwrap_err()),
            "south"
        );
        assert_eq!(
            field(Bounds::parse(-5.2, 119.4, -5.1, f64::INFINITY).unwrap_err()),
            "east"
        );
    }

    /// Every point of the circle lies in its box, whatever the direction.
    #[test]
    fn a_circle_lies_within_its_bounds() {
        for (lat, lon) in [(-5.1436, 119.4075), (60.0, 10.0), (0.0, 0.0)] {
            let c = Circle::parse(lat, lon, 1_000.0, geo::MAX_RADIUS_M).unwrap();
            let b = c.bounds();
            for step in 0..360 {
                let bearing = f64::from(step).to_radians();
                let (dlat, dlon) = (bearing.cos() * 0.0095, bearing.sin() * 0.05);
                let mut p = (lat + dlat, lon + dlon);
                // Walk each ray back to the circle's edge.
                while !c.contains(p.0, p.1) {
                    p = (lat + (p.0 - lat) * 0.999, lon + (p.1 - lon) * 0.999);
                }
                assert!(b.contains(p.0, p.1), "{lat} {lon} {p:?}");
            }
        }
    }
}
