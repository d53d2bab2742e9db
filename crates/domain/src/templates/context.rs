//! What a case fills a template's derived variables with: names as citizens
//! know them (the reference data's official names, not codes).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use super::Variable;
use crate::aggregate::Case;
use crate::reference::ReferenceData;

/// The derived variables' values for `case`. `deadline` is the running SLA
/// clock's, in the city's time (the caller computes it: it takes the SLA
/// policy). A value the case lacks (a number, on a case from before
/// numbers) is left out, so it renders empty.
pub fn derived(
    case: &Case,
    reference: &ReferenceData,
    deadline: Option<DateTime<FixedOffset>>,
) -> BTreeMap<Variable, String> {
    let mut values = BTreeMap::new();
    let mut put = |variable, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            values.insert(variable, value);
        }
    };
    put(Variable::Number, case.number.clone());
    put(Variable::Title, Some(case.title.clone()));
    let category = reference.category(&case.category).map(|c| c.name.clone());
    put(
        Variable::Category,
        category.or_else(|| Some(case.category.clone())),
    );
    let opd = case.opd.as_deref();
    put(
        Variable::Opd,
        opd.map(|code| reference.opd(code).map_or(code, |o| &o.name).to_string()),
    );
    let kecamatan = case.location.kecamatan.as_deref();
    put(
        Variable::Kecamatan,
        kecamatan.map(|code| {
            reference
                .kecamatan(code)
                .map_or(code, |k| &k.name)
                .to_string()
        }),
    );
    put(
        Variable::Kelurahan,
        case.location.kelurahan.as_deref().map(|given| {
            reference
                .kelurahan(given, kecamatan)
                .map_or(given, |k| &k.name)
                .to_string()
        }),
    );
    put(
        Variable::Deadline,
        deadline.map(|d| d.format("%d-%m-%Y %H:%M").to_string()),
    );
    values
}
