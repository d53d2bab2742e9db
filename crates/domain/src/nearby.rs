//! Which earlier reports may be the same problem as a new one: the rules per
//! category, as FixMyStreet keeps them. Citizens are shown a close circle
//! (250 m by default) so the question "is it one of these?" stays answerable;
//! staff look wider (1 km by default, never more), since callers place a
//! problem roughly. Only open cases of the same category, no older than the
//! rule's age, are suggested.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The widest circle staff may search (the "at most 1 km").
pub const MAX_STAFF_RADIUS_M: u32 = 1_000;

/// One category's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearbyRule {
    /// The circle shown to citizens, in meters.
    pub citizen_radius_m: u32,
    /// The circle shown to staff, in meters (at most `MAX_STAFF_RADIUS_M`).
    pub staff_radius_m: u32,
    /// How old (since submission) a suggested case may be, in days.
    pub max_age_days: u32,
}

impl Default for NearbyRule {
    fn default() -> Self {
        NearbyRule {
            citizen_radius_m: 250,
            staff_radius_m: MAX_STAFF_RADIUS_M,
            max_age_days: 30,
        }
    }
}

/// The rules of every category: `default` unless the category has its own
/// (`[nearby]` and `[nearby.categories.CODE]` in reference.toml).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearbyRules {
    #[serde(default)]
    pub default: NearbyRule,
    #[serde(default)]
    pub categories: BTreeMap<String, NearbyRule>,
}

impl NearbyRules {
    pub fn for_category(&self, category: &str) -> NearbyRule {
        self.categories
            .get(category)
            .copied()
            .unwrap_or(self.default)
    }

    /// Every rule within bounds: radii positive, staff's at most 1 km and at
    /// least the citizens', ages positive.
    pub fn check(&self) -> Result<(), String> {
        let all = std::iter::once(("default", &self.default))
            .chain(self.categories.iter().map(|(c, r)| (c.as_str(), r)));
        for (name, r) in all {
            let ok = r.citizen_radius_m > 0
                && r.staff_radius_m <= MAX_STAFF_RADIUS_M
                && r.citizen_radius_m <= r.staff_radius_m
                && r.max_age_days > 0;
            if !ok {
                return Err(format!(
                    "nearby rule {name}: radii must satisfy 0 < citizen <= staff <= \
                     {MAX_STAFF_RADIUS_M} m and the age must be positive"
                ));
            }
        }
        Ok(())
    }
}

/// How a duplicate link stands against its category's rule, as the link
/// records it: what a suggestion would have offered, or the agent's judgement
/// beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRule {
    /// Same category, within the staff radius: what `possibleDuplicates` offers.
    Nearby,
    /// Same category, farther than the staff radius.
    Farther,
    /// A different category (a fallen tree reported as a blocked road).
    OtherCategory,
}

impl LinkRule {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkRule::Nearby => "SAME_CATEGORY_NEARBY",
            LinkRule::Farther => "SAME_CATEGORY_FARTHER",
            LinkRule::OtherCategory => "OTHER_CATEGORY",
        }
    }

    /// The rule a link between a case of `category` and a primary of
    /// `primary_category`, `distance_m` apart, falls under, with the staff
    /// radius of the case's category.
    pub fn judge(
        rules: &NearbyRules,
        category: &str,
        primary_category: &str,
        distance_m: f64,
    ) -> (LinkRule, u32) {
        let radius = rules.for_category(category).staff_radius_m;
        let rule = if category != primary_category {
            LinkRule::OtherCategory
        } else if distance_m <= f64::from(radius) {
            LinkRule::Nearby
        } else {
            LinkRule::Farther
        };
        (rule, radius)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_without_its_own_rule_takes_the_default() {
        let flood = NearbyRule {
            citizen_radius_m: 500,
            staff_radius_m: 1_000,
            max_age_days: 3,
        };
        let rules = NearbyRules {
            default: NearbyRule::default(),
            categories: [("FLOODING".to_string(), flood)].into(),
        };
        assert_eq!(rules.for_category("FLOODING"), flood);
        assert_eq!(rules.for_category("ROAD_DAMAGE"), NearbyRule::default());
        assert_eq!(NearbyRule::default().citizen_radius_m, 250);
        assert!(rules.check().is_ok());
    }

    #[test]
    fn a_link_is_judged_by_the_case_s_category_rule() {
        let rules = NearbyRules::default();
        let judge = |p: &str, d| LinkRule::judge(&rules, "ROAD", p, d);
        assert_eq!(judge("ROAD", 999.9), (LinkRule::Nearby, 1_000));
        assert_eq!(judge("ROAD", 1_000.0), (LinkRule::Nearby, 1_000));
        assert_eq!(judge("ROAD", 1_000.1), (LinkRule::Farther, 1_000));
        assert_eq!(judge("TREE", 10.0), (LinkRule::OtherCategory, 1_000));
        assert_eq!(LinkRule::Farther.as_str(), "SAME_CATEGORY_FARTHER");
    }

    #[test]
    fn rules_out_of_bounds_are_refused_by_name() {
        let mut rules = NearbyRules::default();
        rules.categories.insert(
            "WIDE".into(),
            NearbyRule {
                staff_radius_m: 1_001,
                ..NearbyRule::default()
            },
        );
        assert!(rules.check().unwrap_err().contains("WIDE"));
        rules.categories.clear();
        rules.default.citizen_radius_m = 0;
        assert!(rules.check().unwrap_err().contains("default"));
    }
}
