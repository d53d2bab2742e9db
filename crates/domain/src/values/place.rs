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

impl Coordinates {
    /// The point, if the city's box (`[city] bounds`) holds it; 0,0 is what
    /// an Open311 report given by its address alone is placed at ("no
    /// coordinates"), so it is let through.
    fn in_city(self, reference: &ReferenceData) -> Result<Self, ComplaintError> {
        let Some(b) = reference.city.bounds else {
            return Ok(self);
        };
        if self.latitude == 0.0 && self.longitude == 0.0 {
            return Ok(self);
        }
        if !b.contains_latitude(self.latitude) {
            return Err(ComplaintError::invalid(
                "latitude",
                format!("is outside the city: between {} and {}", b.south, b.north),
            ));
        }
        if !b.contains_longitude(self.longitude) {
            return Err(ComplaintError::invalid(
                "longitude",
                format!("is outside the city: between {} and {}", b.west, b.east),
            ));
        }
        Ok(self)
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
    /// (`latitude`, `kecamatan`, ...): the caller says whose they are. A
    /// kelurahan is stored as its code; given without a kecamatan, it names
    /// the kecamatan too.
    pub fn parse(reference: &ReferenceData, given: &Location) -> Result<Self, ComplaintError> {
        let coordinates =
            Coordinates::parse(given.latitude, given.longitude)?.in_city(reference)?;
        let kecamatan = KecamatanCode::optional(reference, given.kecamatan.as_deref())
            .map_err(|e| e.at("kecamatan"))?;
        let address = ShortText::optional(given.address.as_deref()).map_err(|e| e.at("address"))?;
        let (kelurahan, kecamatan) =
            kelurahan_in(reference, given.kelurahan.as_deref(), kecamatan)?;
        Ok(Place {
            coordinates,
            kecamatan,
            address,
            kelurahan,
        })
    }
}

/// The kelurahan given (its code or official name) as its code, and the
/// kecamatan then known. With the city's list, it must be on it and lie in
/// the kecamatan given; without one (`kelurahan` empty) it is free text.
fn kelurahan_in(
    reference: &ReferenceData,
    given: Option<&str>,
    kecamatan: Option<KecamatanCode>,
) -> Result<(Option<Code>, Option<KecamatanCode>), ComplaintError> {
    let Some(given) = Code::optional(given).map_err(|e| e.at("kelurahan"))? else {
        return Ok((None, kecamatan));
    };
    if reference.kelurahan.is_empty() {
        return Ok((Some(given), kecamatan));
    }
    let in_kecamatan = kecamatan.as_ref().map(KecamatanCode::as_str);
    let Some(found) = reference.kelurahan(given.as_str(), in_kecamatan) else {
        return Err(ComplaintError::invalid(
            "kelurahan",
            format!("unknown kelurahan {:?}", given.as_str()),
        ));
    };
    if in_kecamatan.is_some_and(|k| k != found.kecamatan) {
        return Err(ComplaintError::invalid(
            "kelurahan",
            format!(
                "kelurahan {} ({}) lies in kecamatan {}, not {}",
                found.code,
                found.name,
                found.kecamatan,
                in_kecamatan.unwrap_or_default()
            ),
        ));
    }
    let code = Code::parse(&found.code).map_err(|e| e.at("kelurahan"))?;
    let kecamatan = match kecamatan {
        Some(k) => k,
        None => KecamatanCode::known(reference, &found.kecamatan).map_err(|e| e.at("kecamatan"))?,
    };
    Ok((Some(code), Some(kecamatan)))
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
    /// The codes and (lower-case) names of the new kecamatan's kelurahan,
    /// when it is given alone and the city lists them.
    kelurahan_of_kecamatan: Option<Vec<String>>,
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
            (Some(latitude), Some(longitude)) => {
                Some(Coordinates::parse(latitude, longitude)?.in_city(reference)?)
            }
            (None, None) => None,
            (Some(_), None) => return Err(ComplaintError::invalid("longitude", PAIR)),
            (None, Some(_)) => return Err(ComplaintError::invalid("latitude", PAIR)),
        };
        let kecamatan =
            KecamatanCode::optional(reference, kecamatan).map_err(|e| e.at("kecamatan"))?;
        let address = ShortText::optional(address).map_err(|e| e.at("address"))?;
        let (kelurahan, kecamatan) = kelurahan_in(reference, kelurahan, kecamatan)?;
        // A new kecamatan without a kelurahan: the case's kelurahan stays only
        // if it lies there.
        let kelurahan_of_kecamatan = match (&kecamatan, &kelurahan) {
            (Some(k), None) if !reference.kelurahan.is_empty() => Some(
                reference
                    .kelurahan
                    .iter()
                    .filter(|l| l.kecamatan == k.as_str())
                    .flat_map(|l| [l.code.clone(), l.name.to_lowercase()])
                    .collect(),
            ),
            _ => None,
        };
        let correction = PlaceCorrection {
            coordinates,
            kecamatan,
            address,
            kelurahan,
            kelurahan_of_kecamatan,
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
        let kept = current.kelurahan.clone().filter(|k| {
            self.kelurahan_of_kecamatan
                .as_ref()
                .is_none_or(|there| there.contains(k) || there.contains(&k.to_lowercase()))
        });
        let given = Location::from(self.clone());
        Location {
            latitude,
            longitude,
            address: text(&given.address, &current.address),
            kecamatan: text(&given.kecamatan, &current.kecamatan),
            kelurahan: text(&given.kelurahan, &kept),
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
    /// Two kecamatan with a kelurahan each, and the city's box.
    fn city() -> ReferenceData {
        let kelurahan = |code: &str, name: &str, kecamatan: &str| crate::reference::Kelurahan {
            code: code.into(),
            name: name.into(),
            kecamatan: kecamatan.into(),
        };
        let mut r = reference();
        r.kecamatan.push(Kecamatan {
            code: "TALLO".into(),
            name: "Tallo".into(),
        });
        r.kelurahan = vec![
            kelurahan("73.71.01.1004", "Lette", "MARISO"),
            kelurahan("73.71.07.1003", "Kaluku Bodoa", "TALLO"),
        ];
        r.city.bounds = Some(crate::reference::Bounds {
            south: -5.25,
            west: 119.05,
            north: -4.95,
            east: 119.56,
        });
        r
    }

    fn placed(
        kecamatan: Option<&str>,
        kelurahan: Option<&str>,
    ) -> Result<Location, ComplaintError> {
        let given = Location {
            kecamatan: kecamatan.map(Into::into),
            kelurahan: kelurahan.map(Into::into),
            ..location(-5.1477, 119.4327)
        };
        Place::parse(&city(), &given).map(Location::from)
    }

    #[test]
    fn a_kelurahan_is_stored_by_code_and_names_its_kecamatan() {
        for given in ["73.71.07.1003", "Kaluku Bodoa", " kaluku BODOA "] {
            let stored = placed(None, Some(given)).unwrap();
            assert_eq!(
                stored.kelurahan.as_deref(),
                Some("73.71.07.1003"),
                "{given}"
            );
            assert_eq!(stored.kecamatan.as_deref(), Some("TALLO"), "filled from it");
        }
        let both = placed(Some("MARISO"), Some("lette")).unwrap();
        assert_eq!(both.kelurahan.as_deref(), Some("73.71.01.1004"));
        assert_eq!(both.kecamatan.as_deref(), Some("MARISO"));
        assert_eq!(placed(Some("TALLO"), None).unwrap().kelurahan, None);
    }

    #[test]
    fn a_kelurahan_off_the_list_or_in_another_kecamatan_is_refused() {
        assert_eq!(
            placed(None, Some("Atlantis")),
            Err(ComplaintError::invalid(
                "kelurahan",
                "unknown kelurahan \"Atlantis\""
            ))
        );
        assert_eq!(
            placed(Some("MARISO"), Some("Kaluku Bodoa")),
            Err(ComplaintError::invalid(
                "kelurahan",
                "kelurahan 73.71.07.1003 (Kaluku Bodoa) lies in kecamatan TALLO, not MARISO"
            ))
        );
        // Without the city's list, a kelurahan is free text.
        let free = Place::parse(
            &reference(),
            &Location {
                kelurahan: Some("Atlantis".into()),
                ..location(-5.1, 119.4)
            },
        );
        assert_eq!(
            Location::from(free.unwrap()).kelurahan.as_deref(),
            Some("Atlantis")
        );
    }

    #[test]
    fn coordinates_outside_the_city_are_refused_by_their_name() {
        let at = |latitude, longitude| Place::parse(&city(), &location(latitude, longitude));
        // Jakarta; then a point east of the city at its latitude.
        assert_eq!(
            at(-6.2, 106.8),
            Err(ComplaintError::invalid(
                "latitude",
                "is outside the city: between -5.25 and -4.95"
            ))
        );
        assert_eq!(
            at(-5.14, 119.6),
            Err(ComplaintError::invalid(
                "longitude",
                "is outside the city: between 119.05 and 119.56"
            ))
        );
        // The edges, an island (Lanjukang), and 0,0 ("no coordinates").
        for (lat, lon) in [
            (-5.25, 119.05),
            (-4.95, 119.56),
            (-4.9797, 119.0772),
            (0.0, 0.0),
        ] {
            assert!(at(lat, lon).is_ok(), "{lat},{lon}");
        }
        let moved = PlaceCorrection::parse(&city(), (Some(-5.3), Some(119.4)), None, None, None);
        assert_eq!(
            moved,
            Err(ComplaintError::invalid(
                "latitude",
                "is outside the city: between -5.25 and -4.95"
            ))
        );
        // Without bounds, anywhere on the earth.
        assert!(Place::parse(&reference(), &location(-6.2, 106.8)).is_ok());
    }

    #[test]
    fn a_correction_keeps_the_kelurahan_only_in_its_kecamatan() {
        let current = Location {
            kecamatan: Some("TALLO".into()),
            kelurahan: Some("73.71.07.1003".into()),
            ..location(-5.12, 119.44)
        };
        let correct = |kecamatan: Option<&str>, kelurahan: Option<&str>| {
            PlaceCorrection::parse(&city(), (None, None), None, kecamatan, kelurahan)
                .unwrap()
                .applied_to(&current)
        };
        let mariso = correct(Some("MARISO"), None);
        assert_eq!(mariso.kecamatan.as_deref(), Some("MARISO"));
        assert_eq!(mariso.kelurahan, None, "Kaluku Bodoa is not in Mariso");
        let tallo_again = correct(Some("TALLO"), None);
        assert_eq!(tallo_again.kelurahan.as_deref(), Some("73.71.07.1003"));
        let lette = correct(None, Some("Lette"));
        assert_eq!(lette.kecamatan.as_deref(), Some("MARISO"), "filled from it");
        assert_eq!(lette.kelurahan.as_deref(), Some("73.71.01.1004"));
    }
}
