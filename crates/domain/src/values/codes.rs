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

    pub fn into_string(self) -> String {
        self.0
    }
}
