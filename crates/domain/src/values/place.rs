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
