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

/// The city's reference data. Commands name entries by `code`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceData {
    pub opds: Vec<Opd>,
    pub categories: Vec<Category>,
    pub kecamatan: Vec<Kecamatan>,
    /// The satisfaction survey's nine elements (U1..U9), named and ordered for
    /// the city's forms; the regulation's own when none are given.
    #[serde(default = "crate::ikm::default_elements")]
    pub survey_elements: Vec<crate::ikm::SurveyElement>,
    /// Which earlier reports are suggested as the same problem (see `nearby`).
    #[serde(default)]
    pub nearby: crate::nearby::NearbyRules,
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
        if !self.survey_elements.is_empty() {
            crate::ikm::check_elements(&self.survey_elements).map_err(ReferenceError)?;
        }
        self.nearby.check().map_err(ReferenceError)?;
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
