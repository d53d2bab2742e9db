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

/// What the Command Center corrects of a case's place (`CorrectLocation`):
/// the parts given; the rest stays as the case has it. Coordinates go as a
/// pair; blank texts are not given.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(into = "Location")]
pub struct PlaceCorrection {
    coordinates: Option<Coordinates>,
    address: Option<ShortText>,
    kecamatan: Option<KecamatanCode>,
    kelurahan: Option<Code>,
}

impl PlaceCorrection {
    /// Checks a correction as given. Refusals name the location's own fields;
    /// a correction that names nothing is refused as `location`'s.
    pub fn parse(
        reference: &ReferenceData,
        coordinates: (Option<f64>, Option<f64>),
        address: Option<&str>,
        kecamatan: Option<&str>,
        kelurahan: Option<&str>,
    ) -> Result<Self, ComplaintError> {
        let coordinates = match coordinates {
            (Some(latitude), Some(longitude)) => Some(Coordinates::parse(latitude, longitude)?),
            (None, None) => None,
            (Some(_), None) => return Err(ComplaintError::invalid("longitude", PAIR)),
            (None, Some(_)) => return Err(ComplaintError::invalid("latitude", PAIR)),
        };
        let correction = PlaceCorrection {
            coordinates,
            kecamatan: KecamatanCode::optional(reference, kecamatan)
                .map_err(|e| e.at("kecamatan"))?,
            address: ShortText::optional(address).map_err(|e| e.at("address"))?,
            kelurahan: Code::optional(kelurahan).map_err(|e| e.at("kelurahan"))?,
        };
        if correction.names_nothing() {
            return Err(ComplaintError::invalid(
                "location",
                "names nothing to correct: give coordinates, address, kecamatan or kelurahan",
            ));
        }
        Ok(correction)
    }

    fn names_nothing(&self) -> bool {
        self.coordinates.is_none()
            && self.address.is_none()
            && self.kecamatan.is_none()
            && self.kelurahan.is_none()
    }

    /// Whether it gives an address (personal data: see `erasure`).
    pub fn gives_address(&self) -> bool {
        self.address.is_some()
    }

    /// `current` with the corrected parts replaced.
    pub fn applied_to(&self, current: &Location) -> Location {
        let (latitude, longitude) = self
            .coordinates
            .map_or((current.latitude, current.longitude), |c| {
                (c.latitude, c.longitude)
            });
        let text = |given: &Option<String>, old: &Option<String>| given.clone().or(old.clone());
        let given = Location::from(self.clone());
        Location {
            latitude,
            longitude,
            address: text(&given.address, &current.address),
            kecamatan: text(&given.kecamatan, &current.kecamatan),
            kelurahan: text(&given.kelurahan, &current.kelurahan),
        }
    }
}

const PAIR: &str = "latitude and longitude are corrected together";

/// As a command's digest records it: parts not given are null (coordinates
/// not given read as NaN, which JSON writes as null).
impl From<PlaceCorrection> for Location {
    fn from(c: PlaceCorrection) -> Location {
        Location {
            latitude: c.coordinates.map_or(f64::NAN, |p| p.latitude),
            longitude: c.coordinates.map_or(f64::NAN, |p| p.longitude),
            address: c.address.map(Text::into_string),
            kecamatan: c.kecamatan.map(KecamatanCode::into_string),
            kelurahan: c.kelurahan.map(Text::into_string),
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

    #[test]
    fn a_correction_replaces_only_what_it_names() {
        let current = Location {
            address: Some("Jl. Penghibur 12".into()),
            kelurahan: Some("Lette".into()),
            ..location(-5.1477, 119.4327)
        };
        let kecamatan = PlaceCorrection::parse(
            &reference(),
            (None, None),
            None,
            Some(" MARISO "),
            Some(" "),
        )
        .unwrap();
        assert!(!kecamatan.gives_address());
        assert_eq!(
            kecamatan.applied_to(&current),
            Location {
                kecamatan: Some("MARISO".into()),
                ..current.clone()
            }
        );
        let moved = PlaceCorrection::parse(
            &reference(),
            (Some(-5.2), Some(119.5)),
            Some("Jl. Baru"),
            None,
            None,
        )
        .unwrap();
        assert!(moved.gives_address());
        assert_eq!(
            moved.applied_to(&current),
            Location {
                latitude: -5.2,
                longitude: 119.5,
                address: Some("Jl. Baru".into()),
                ..current
            }
        );
    }

    #[test]
    fn a_correction_names_its_refused_part() {
        let parse = |c: (Option<f64>, Option<f64>), k: Option<&str>| {
            PlaceCorrection::parse(&reference(), c, None, k, None)
        };
        assert_eq!(
            parse((None, None), None),
            Err(ComplaintError::invalid(
                "location",
                "names nothing to correct: give coordinates, address, kecamatan or kelurahan"
            ))
        );
        assert_eq!(
            parse((None, None), Some("  ")).map(|_| ()),
            parse((None, None), None).map(|_| ())
        );
        assert_eq!(
            parse((Some(1.0), None), None),
            Err(ComplaintError::invalid("longitude", PAIR))
        );
        assert_eq!(
            parse((None, Some(1.0)), None),
            Err(ComplaintError::invalid("latitude", PAIR))
        );
        assert_eq!(
            parse((Some(95.0), Some(1.0)), None),
            Err(ComplaintError::invalid(
                "latitude",
                "must be between -90 and 90"
            ))
        );
        assert_eq!(
            parse((None, None), Some("ATLANTIS")),
            Err(ComplaintError::invalid(
                "kecamatan",
                "unknown kecamatan \"ATLANTIS\""
            ))
        );
    }
}
