use serde::{Deserialize, Serialize};

/// A department (Organisasi Perangkat Daerah) that handles complaints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opd {
    pub code: String,
    /// The official name, as citizens are told it (notifications, Open311).
    pub name: String,
    /// What it handles, for staff and analysts who do not know the name.
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub default_opd: String,
    /// What Open311 clients ask the reporter besides the description (the
    /// service definition's attributes, `attributes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<crate::attributes::Attribute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kecamatan {
    pub code: String,
    pub name: String,
}

/// A kelurahan (urban village) of the city, in its kecamatan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kelurahan {
    /// The Ministry of Home Affairs' code (`73.71.01.1001`): what a case stores.
    pub code: String,
    /// The official name; a report may give it instead of the code.
    pub name: String,
    /// Its kecamatan's code (`kecamatan`).
    pub kecamatan: String,
}

/// The box the city lies in, in degrees: reports placed outside it are
/// refused. Only a box, so it is drawn with a margin around the coast and the
/// islands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

// `check` refuses bounds that are not finite numbers, so equality is total.
impl Eq for Bounds {}

impl Bounds {
    pub fn contains_latitude(&self, latitude: f64) -> bool {
        (self.south..=self.north).contains(&latitude)
    }

    pub fn contains_longitude(&self, longitude: f64) -> bool {
        (self.west..=self.east).contains(&longitude)
    }

    fn check(&self) -> Result<(), ReferenceError> {
        let finite = [self.south, self.west, self.north, self.east]
            .iter()
            .all(|d| d.is_finite());
        let lat_ok = (-90.0..=90.0).contains(&self.south) && (-90.0..=90.0).contains(&self.north);
        let lon_ok = (-180.0..=180.0).contains(&self.west) && (-180.0..=180.0).contains(&self.east);
        if finite && lat_ok && lon_ok && self.south < self.north && self.west < self.east {
            Ok(())
        } else {
            Err(ReferenceError(format!(
                "city bounds {self:?} are not a box on the earth (south < north, west < east)"
            )))
        }
    }
}

/// What reference.toml says of the city as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct City {
    /// None: coordinates are checked only for being on the earth.
    #[serde(default)]
    pub bounds: Option<Bounds>,
    /// The letters case numbers start with (`numbering`: `MKS-2026-004512`);
    /// `ADU` when none is set.
    #[serde(default)]
    pub case_number_prefix: Option<String>,
}

/// The city's reference data. Commands name entries by `code`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceData {
    pub opds: Vec<Opd>,
    pub categories: Vec<Category>,
    pub kecamatan: Vec<Kecamatan>,
    /// None: a report's kelurahan is free text, as before the list existed.
    #[serde(default)]
    pub kelurahan: Vec<Kelurahan>,
    #[serde(default)]
    pub city: City,
    /// The satisfaction survey's nine elements (U1..U9), named and ordered for
    /// the city's forms; the regulation's own when none are given.
    #[serde(default = "crate::ikm::default_elements")]
    pub survey_elements: Vec<crate::ikm::SurveyElement>,
    /// Which earlier reports are suggested as the same problem (see `nearby`).
    #[serde(default)]
    pub nearby: crate::nearby::NearbyRules,
    /// Hand-off reason codes and the loop limit (`handoffs`).
    #[serde(default)]
    pub handoffs: crate::handoffs::HandoffRules,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reference data is inconsistent: {0}")]
pub struct ReferenceError(pub String);

impl ReferenceData {
    pub fn opd(&self, code: &str) -> Option<&Opd> {
        self.opds.iter().find(|o| o.code == code)
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn kecamatan(&self, code: &str) -> Option<&Kecamatan> {
        self.kecamatan.iter().find(|k| k.code == code)
    }

    /// A kelurahan by its code, else by its official name (any case); a name
    /// two kecamatan share is looked up in `kecamatan` when one is given.
    pub fn kelurahan(&self, given: &str, kecamatan: Option<&str>) -> Option<&Kelurahan> {
        if let Some(k) = self.kelurahan.iter().find(|k| k.code == given) {
            return Some(k);
        }
        let mut named = self
            .kelurahan
            .iter()
            .filter(|k| k.name.to_lowercase() == given.to_lowercase());
        let first = named.clone().next();
        named
            .find(|k| kecamatan.is_some_and(|c| c == k.kecamatan))
            .or(first)
    }

    /// The survey's elements: the configured ones, or the regulation's.
    pub fn survey(&self) -> Vec<crate::ikm::SurveyElement> {
        if self.survey_elements.is_empty() {
            crate::ikm::default_elements()
        } else {
            self.survey_elements.clone()
        }
    }

    /// Codes are unique, every category routes to a known OPD, and the survey
    /// has the national method's nine elements.
    pub fn check(&self) -> Result<(), ReferenceError> {
        fn unique<'a>(
            kind: &str,
            codes: impl Iterator<Item = &'a str>,
        ) -> Result<(), ReferenceError> {
            let mut seen = std::collections::HashSet::new();
            for code in codes {
                if code.trim().is_empty() || !seen.insert(code) {
                    return Err(ReferenceError(format!(
                        "{kind} code {code:?} is empty or repeated"
                    )));
                }
            }
            Ok(())
        }
        unique("opd", self.opds.iter().map(|o| o.code.as_str()))?;
        unique("category", self.categories.iter().map(|c| c.code.as_str()))?;
        unique("kecamatan", self.kecamatan.iter().map(|k| k.code.as_str()))?;
        unique("kelurahan", self.kelurahan.iter().map(|k| k.code.as_str()))?;
        if let Some(k) = self
            .kelurahan
            .iter()
            .find(|k| self.kecamatan(&k.kecamatan).is_none())
        {
            return Err(ReferenceError(format!(
                "kelurahan {} lies in unknown kecamatan {}",
                k.code, k.kecamatan
            )));
        }
        if let Some(bounds) = &self.city.bounds {
            bounds.check()?;
        }
        if !self.survey_elements.is_empty() {
            crate::ikm::check_elements(&self.survey_elements).map_err(ReferenceError)?;
        }
        self.nearby.check().map_err(ReferenceError)?;
        self.handoffs.check().map_err(ReferenceError)?;
        if let Some(c) = self
            .nearby
            .categories
            .keys()
            .find(|c| self.category(c).is_none())
        {
            return Err(ReferenceError(format!(
                "nearby rule for unknown category {c}"
            )));
        }
        for c in &self.categories {
            crate::attributes::check_definitions(&c.code, &c.attributes).map_err(ReferenceError)?;
        }
        match self
            .categories
            .iter()
            .find(|c| self.opd(&c.default_opd).is_none())
        {
            Some(c) => Err(ReferenceError(format!(
                "category {} routes to unknown OPD {}",
                c.code, c.default_opd
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn city() -> ReferenceData {
        ReferenceData {
            kecamatan: vec![Kecamatan {
                code: "MARISO".into(),
                name: "Mariso".into(),
            }],
            kelurahan: vec![Kelurahan {
                code: "73.71.01.1004".into(),
                name: "Lette".into(),
                kecamatan: "MARISO".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn kelurahan_lie_in_known_kecamatan_under_unique_codes() {
        assert_eq!(city().check(), Ok(()));
        let mut repeated = city();
        repeated.kelurahan.push(repeated.kelurahan[0].clone());
        assert!(repeated.check().unwrap_err().0.contains("kelurahan code"));
        let mut elsewhere = city();
        elsewhere.kelurahan[0].kecamatan = "ATLANTIS".into();
        assert_eq!(
            elsewhere.check(),
            Err(ReferenceError(
                "kelurahan 73.71.01.1004 lies in unknown kecamatan ATLANTIS".into()
            ))
        );
    }

    #[test]
    fn the_city_box_is_a_box() {
        let mut r = city();
        r.city.bounds = Some(Bounds {
            south: -5.25,
            west: 119.05,
            north: -4.95,
            east: 119.56,
        });
        assert_eq!(r.check(), Ok(()));
        for broken in [
            Bounds {
                south: -4.0,
                ..r.city.bounds.unwrap()
            },
            Bounds {
                east: f64::NAN,
                ..r.city.bounds.unwrap()
            },
            Bounds {
                west: -181.0,
                ..r.city.bounds.unwrap()
            },
        ] {
            let mut b = r.clone();
            b.city.bounds = Some(broken);
            assert!(b.check().is_err(), "{broken:?}");
        }
    }

    #[test]
    fn a_kelurahan_is_found_by_code_or_name() {
        let r = city();
        assert_eq!(r.kelurahan("73.71.01.1004", None).unwrap().name, "Lette");
        assert_eq!(
            r.kelurahan("LETTE", Some("TALLO")).unwrap().code,
            "73.71.01.1004"
        );
        assert!(r.kelurahan("73.71.01.9999", None).is_none());
    }
}
