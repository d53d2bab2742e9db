//! Incidents, not reports: which cases an OPD's workload and breach figures
//! count. A case that follows an incident (linked as a duplicate, or closed
//! through its primary) is one more report of the primary's incident: the
//! primary counts for it, it counts nowhere (not open, not overdue, no clock in
//! the compliance and percentiles, not in the city statistics). The one-way
//! closing `closeComplaint(resolution: DUPLICATE, duplicateOf)` follows no
//! primary, so such a case counts as it always did: it was handled, and its
//! clocks ran, as a case of its own.
//!
//! Both projections keep the followed primary in `primary_id`; this module is
//! the one place that says what it means for the figures.

use aduan_domain::Case;

/// The SQL condition (over `complaint_summary` or `sla_timers`) for a row the
/// OPD's figures count.
pub const COUNTED: &str = "primary_id IS NULL";

/// The SQL condition for a case in the OPD's open workload (the predicate of
/// the partial index `complaint_summary_open_opd_created`, word for word).
pub const OPEN_WORKLOAD: &str = "status NOT IN ('CLOSED', 'REJECTED') AND primary_id IS NULL";

/// Whether a row with this followed primary counts in the OPD's figures.
pub fn counted(primary_id: Option<&str>) -> bool {
    primary_id.is_none()
}

/// Whether a case with this status and followed primary is open work of its OPD.
pub fn open_workload(status: &str, primary_id: Option<&str>) -> bool {
    crate::rollup::is_open(status) && counted(primary_id)
}

/// The incident `case` follows, as the projections store it.
pub fn primary_of(case: &Case) -> Option<&str> {
    case.incident_primary()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_of_an_incident_are_no_workload() {
        assert!(open_workload("IN_PROGRESS", None));
        assert!(!open_workload("DUPLICATE", Some("p")));
        assert!(!open_workload("CLOSED", None));
        assert!(!counted(Some("p")));
        assert!(counted(None));
    }
}
