//! Codes that name the city's reference data: valid only when the city has them.

use serde::Serialize;

use super::text::{Code, Text};
use super::Invalid;
use crate::reference::ReferenceData;

macro_rules! known_code {
    ($(#[$m:meta])* $name:ident, $what:literal, $find:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The code as given, when the reference data has it.
            pub fn known(reference: &ReferenceData, code: &str) -> Result<Self, Invalid> {
                match reference.$find(code) {
                    Some(found) => Ok($name(found.code.clone())),
                    None => Err(Invalid::new(format!(concat!("unknown ", $what, " {:?}"), code))),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }
    };
}

known_code!(
    /// A category the city handles (`categories`).
    CategoryCode, "category", category
);
known_code!(
    /// One of the city's departments (`opds`).
    OpdCode, "OPD", opd
);

/// A kecamatan of the city, given as its code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct KecamatanCode(String);

impl KecamatanCode {
    /// An optional kecamatan: cleaned like any code, blank is none, and it must
    /// be one of the city's.
    pub fn optional(
        reference: &ReferenceData,
        code: Option<&str>,
    ) -> Result<Option<Self>, Invalid> {
        let Some(code) = Code::optional(code)?.map(Text::into_string) else {
            return Ok(None);
        };
        if reference.kecamatan(&code).is_none() {
            return Err(Invalid::new(format!("unknown kecamatan {code:?}")));
        }
        Ok(Some(KecamatanCode(code)))
    }

    /// A kecamatan the reference data has, as named there.
    pub fn known(reference: &ReferenceData, code: &str) -> Result<Self, Invalid> {
        match reference.kecamatan(code) {
            Some(k) => Ok(KecamatanCode(k.code.clone())),
            None => Err(Invalid::new(format!("unknown kecamatan {code:?}"))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{Category, Kecamatan, Opd};

    fn reference() -> ReferenceData {
        ReferenceData {
            opds: vec![Opd {
                code: "DPU".into(),
                name: "Dinas Pekerjaan Umum".into(),
                description: None,
            }],
            categories: vec![Category {
                code: "ROAD_DAMAGE".into(),
                name: "road damage".into(),
                default_opd: "DPU".into(),
                attributes: vec![],
            }],
            kecamatan: vec![Kecamatan {
                code: "MARISO".into(),
                name: "Mariso".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_category_or_opd_is_known_by_its_exact_code() {
        let r = reference();
        assert_eq!(
            CategoryCode::known(&r, "ROAD_DAMAGE").unwrap().as_str(),
            "ROAD_DAMAGE"
        );
        assert_eq!(OpdCode::known(&r, "DPU").unwrap().into_string(), "DPU");
        // Codes are matched as given: no trimming, no case folding.
        assert_eq!(
            CategoryCode::known(&r, " ROAD_DAMAGE"),
            Err(Invalid::new("unknown category \" ROAD_DAMAGE\""))
        );
        assert_eq!(
            OpdCode::known(&r, "dpu"),
            Err(Invalid::new("unknown OPD \"dpu\""))
        );
        assert_eq!(
            CategoryCode::known(&r, ""),
            Err(Invalid::new("unknown category \"\""))
        );
        // An OPD's code is not a category, nor the other way round.
        assert!(CategoryCode::known(&r, "DPU").is_err());
        assert!(OpdCode::known(&r, "ROAD_DAMAGE").is_err());
    }

    #[test]
    fn a_kecamatan_is_cleaned_optional_and_one_of_the_citys() {
        let r = reference();
        assert_eq!(KecamatanCode::optional(&r, None), Ok(None));
        assert_eq!(KecamatanCode::optional(&r, Some(" \t")), Ok(None));
        assert_eq!(
            KecamatanCode::optional(&r, Some(" MARISO\u{0} "))
                .unwrap()
                .map(KecamatanCode::into_string),
            Some("MARISO".to_string())
        );
        // The refusal names the code as cleaned.
        assert_eq!(
            KecamatanCode::optional(&r, Some(" ATLANTIS ")),
            Err(Invalid::new("unknown kecamatan \"ATLANTIS\""))
        );
        // Too long is refused as a code, before it is looked up.
        assert_eq!(
            KecamatanCode::optional(&r, Some(&"K".repeat(101))),
            Err(Invalid::new("is 101 characters long; the limit is 100"))
        );
    }
}
