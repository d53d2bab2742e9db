//! The reasons a holder may give for handing a case on, as configured in
//! reference.toml's `[handoffs]`, and how many hand-offs a case may take.

use serde::{Deserialize, Serialize};

use crate::error::ComplaintError;
use crate::values::Invalid;

/// A reason code as given: upper-case letters, digits and `_`. Whether the city
/// has it is decided against [`HandoffRules`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ReasonCode(String);

impl ReasonCode {
    pub fn parse(given: &str) -> Result<ReasonCode, Invalid> {
        let code = given.trim();
        let shaped = code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if code.is_empty() || code.len() > 40 || !shaped {
            return Err(Invalid::new(format!(
                "{given:?} is not a reason code (A-Z, 0-9 and _, at most 40)"
            )));
        }
        Ok(ReasonCode(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One configured reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffReason {
    pub code: String,
    /// How people read it ("Bukan wewenang").
    pub name: String,
}

/// The city's hand-off rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HandoffRules {
    pub reasons: Vec<HandoffReason>,
    /// A case handed on (transferred or returned) more times than this is
    /// escalated, once.
    pub max_transfers: u32,
}

impl Default for HandoffRules {
    fn default() -> Self {
        let reason = |code: &str, name: &str| HandoffReason {
            code: code.to_string(),
            name: name.to_string(),
        };
        HandoffRules {
            reasons: vec![
                reason("BUKAN_WEWENANG", "Bukan wewenang"),
                reason("SALAH_KATEGORI", "Salah kategori"),
                reason("LOKASI_DI_LUAR_WILAYAH", "Lokasi di luar wilayah"),
                reason("PERLU_KOORDINASI", "Perlu koordinasi"),
            ],
            max_transfers: 2,
        }
    }
}

impl HandoffRules {
    /// The configured reason `code` names, or the refusal of `field`.
    pub fn reason(&self, field: &str, code: &ReasonCode) -> Result<&HandoffReason, ComplaintError> {
        self.reasons
            .iter()
            .find(|r| r.code == code.0)
            .ok_or_else(|| {
                let known: Vec<&str> = self.reasons.iter().map(|r| r.code.as_str()).collect();
                ComplaintError::invalid(
                    field,
                    format!(
                        "unknown reason code {:?}; one of {}",
                        code.0,
                        known.join(", ")
                    ),
                )
            })
    }

    /// Codes are well formed and unique, and there is at least one.
    pub fn check(&self) -> Result<(), String> {
        if self.reasons.is_empty() {
            return Err("handoffs: no reason codes".into());
        }
        let mut seen = std::collections::HashSet::new();
        for r in &self.reasons {
            ReasonCode::parse(&r.code).map_err(|e| format!("handoffs: {}", e.message()))?;
            if !seen.insert(r.code.as_str()) {
                return Err(format!("handoffs: reason code {} repeated", r.code));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_snake_case() {
        assert!(ReasonCode::parse("BUKAN_WEWENANG").is_ok());
        assert!(ReasonCode::parse(" SALAH_KATEGORI ").is_ok());
        for bad in ["", "bukan", "BUKAN WEWENANG", "X-Y", &"A".repeat(41)] {
            assert!(ReasonCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn defaults_check_and_unknown_codes_are_refused() {
        let rules = HandoffRules::default();
        rules.check().unwrap();
        let code = ReasonCode::parse("NOT_A_REASON").unwrap();
        let err = rules.reason("reason_code", &code).unwrap_err();
        assert!(
            matches!(err, ComplaintError::InvalidInput { ref field, .. } if field == "reason_code")
        );
        let mut twice = rules.clone();
        twice.reasons.push(rules.reasons[0].clone());
        assert!(twice.check().is_err());
    }
}
