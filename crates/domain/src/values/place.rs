//! Where a problem is: coordinates on the earth, and the city's names for the place.

use super::codes::KecamatanCode;
use super::text::{Code, ShortText, Text};
use super::{Invalid, Location};
use crate::error::ComplaintError;
use crate::reference::ReferenceData;

/// A point given in degrees, both finite and in range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    latitude: f64,
    longitude: f64,
}

impl Coordinates {
    pub fn latitude(latitude: f64) -> Result<f64, Invalid> {
        in_range(latitude, 90.0)
    }

    pub fn longitude(longitude: f64) -> Result<f64, Invalid> {
        in_range(longitude, 180.0)
    }

    /// Refusals name `latitude` or `longitude`.
    pub fn parse(latitude: f64, longitude: f64) -> Result<Self, ComplaintError> {
        Ok(Coordinates {
            latitude: Self::latitude(latitude).map_err(|e| e.at("latitude"))?,
            longitude: Self::longitude(longitude).map_err(|e| e.at("longitude"))?,
        })
    }
}

fn in_range(degrees: f64, max: f64) -> Result<f64, Invalid> {
    if degrees.is_finite() && (-max..=max).contains(&degrees) {
        Ok(degrees)
    } else {
        Err(Invalid::new(format!("must be between -{max} and {max}")))
    }
}

/// A checked location: what a submission carries (`Location` is what its event
/// records).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(into = "Location")]
pub struct Place {
    coordinates: Coordinates,
    address: Option<ShortText>,
    kecamatan: Option<KecamatanCode>,
    kelurahan: Option<Code>,
}

impl Place {
    /// Checks a location as given. Refusals name the location's own fields
    /// (`latitude`, `kecamatan`, ...): the caller says whose they are.
    pub fn parse(reference: &ReferenceData, given: &Location) -> Result<Self, ComplaintError> {
        let coordinates = Coordinates::parse(given.latitude, given.longitude)?;
        let kecamatan = KecamatanCode::optional(reference, given.kecamatan.as_deref())
            .map_err(|e| e.at("kecamatan"))?;
        Ok(Place {
            coordinates,
            kecamatan,
            address: ShortText::optional(given.address.as_deref()).map_err(|e| e.at("address"))?,
            kelurahan: Code::optional(given.kelurahan.as_deref()).map_err(|e| e.at("kelurahan"))?,
        })
    }
}

impl From<Place> for Location {
    fn from(p: Place) -> Location {
        Location {
            latitude: p.coordinates.latitude,
            longitude: p.coordinates.longitude,
            address: p.address.map(Text::into_string),
            kecamatan: p.kecamatan.map(KecamatanCode::into_string),
            kelurahan: p.kelurahan.map(Text::into_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Kecamatan;

    fn reference() -> ReferenceData {
        ReferenceData {
            kecamatan: vec![Kecamatan {
                code: "MARISO".into(),
                name: "Mariso".into(),
            }],
            ..Default::default()
        }
    }

    fn location(latitude: f64, longitude: f64) -> Location {
        Location {
            latitude,
            longitude,
            address: None,
            kecamatan: None,
            kelurahan: None,
        }
    }

    #[test]
    fn coordinates_are_finite_and_in_range_edges_included() {
        for ok in [-90.0, 0.0, 90.0] {
            assert_eq!(Coordinates::latitude(ok), Ok(ok));
        }
        for ok in [-180.0, 180.0] {
            assert_eq!(Coordinates::longitude(ok), Ok(ok));
        }
        for bad in [90.000_1, -90.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                Coordinates::latitude(bad),
                Err(Invalid::new("must be between -90 and 90")),
                "{bad}"
            );
        }
        for bad in [180.5, -181.0, f64::NAN] {
            assert_eq!(
                Coordinates::longitude(bad),
                Err(Invalid::new("must be between -180 and 180")),
                "{bad}"
            );
        }
        // The latitude is refused first, by its own name.
        assert_eq!(
            Coordinates::parse(91.0, 181.0),
            Err(ComplaintError::invalid(
                "latitude",
                "must be between -90 and 90"
            ))
        );
        assert_eq!(
            Coordinates::parse(0.0, 181.0),
            Err(ComplaintError::invalid(
                "longitude",
                "must be between -180 and 180"
            ))
        );
    }

    #[test]
    fn a_place_is_stored_cleaned_with_blanks_as_none() {
        let given = Location {
            address: Some(" Jl. Penghibur 12\u{0} ".into()),
            kecamatan: Some(" MARISO ".into()),
            kelurahan: Some("  ".into()),
            ..location(-5.1477, 119.4327)
        };
        let stored: Location = Place::parse(&reference(), &given).unwrap().into();
        assert_eq!(
            stored,
            Location {
                address: Some("Jl. Penghibur 12".into()),
                kecamatan: Some("MARISO".into()),
                kelurahan: None,
                ..location(-5.1477, 119.4327)
            }
        );
        let bare = location(-90.0, 180.0);
        assert_eq!(
            Location::from(Place::parse(&reference(), &bare).unwrap()),
            bare
        );
    }

    #[test]
    fn a_place_names_the_refused_part_in_order() {
        let parse = |l: &Location| Place::parse(&reference(), l);
        // Coordinates first, then kecamatan, address, kelurahan.
        let everything_wrong = Location {
            address: Some("a".repeat(501)),
            kecamatan: Some("ATLANTIS".into()),
            kelurahan: Some("k".repeat(101)),
            ..location(f64::NAN, 0.0)
        };
        assert_eq!(
            parse(&everything_wrong),
            Err(ComplaintError::invalid(
                "latitude",
                "must be between -90 and 90"
            ))
        );
        let mut l = Location {
            latitude: 0.0,
            ..everything_wrong
        };
        assert_eq!(
            parse(&l),
            Err(ComplaintError::invalid(
                "kecamatan",
                "unknown kecamatan \"ATLANTIS\""
            ))
        );
        l.kecamatan = None;
        assert_eq!(
            parse(&l),
            Err(ComplaintError::invalid(
                "address",
                "is 501 characters long; the limit is 500"
            ))
        );
        l.address = None;
        assert_eq!(
            parse(&l),
            Err(ComplaintError::invalid(
                "kelurahan",
                "is 101 characters long; the limit is 100"
            ))
        );
    }
}
