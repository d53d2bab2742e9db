-- Work queues (issue 24): lists in due order, read along an index in either
-- direction (`aduan_projections::summary_order`), never sorted in memory.
--
-- `due_key`: the deadline of a running clock; a case without one (no clock
-- yet, paused, met) gets 9999-12-31T23:59:59Z so that it comes last in the
-- most-urgent-first order. `priority_rank`: the domain's `Priority::rank`
-- (EMERGENCY 0 .. LOW 3). Both are generated, so the projector, rebuilds and
-- erasure keep them right without knowing of them.
ALTER TABLE complaint_summary
    ADD COLUMN due_key timestamptz GENERATED ALWAYS AS (
        CASE WHEN sla_deadline IS NOT NULL AND sla_state IS NOT NULL AND sla_state <> 'MET'
             THEN sla_deadline ELSE to_timestamp(253402300799) END) STORED,
    ADD COLUMN priority_rank smallint GENERATED ALWAYS AS (
        CASE priority WHEN 'EMERGENCY' THEN 0 WHEN 'HIGH' THEN 1
                      WHEN 'NORMAL' THEN 2 ELSE 3 END) STORED;

-- Whole-city queues (command center, supervisors).
CREATE INDEX IF NOT EXISTS complaint_summary_due ON complaint_summary (due_key, complaint_id);
CREATE INDEX IF NOT EXISTS complaint_summary_priority_due
    ON complaint_summary (priority_rank, due_key, complaint_id);
CREATE INDEX IF NOT EXISTS complaint_summary_updated ON complaint_summary (updated_at, complaint_id);
CREATE INDEX IF NOT EXISTS complaint_summary_status_due
    ON complaint_summary (status, due_key, complaint_id);
-- An OPD's queues (OPD staff are scoped to their OPD).
CREATE INDEX IF NOT EXISTS complaint_summary_opd_due ON complaint_summary (opd, due_key, complaint_id);
CREATE INDEX IF NOT EXISTS complaint_summary_opd_status_due
    ON complaint_summary (opd, status, due_key, complaint_id);
CREATE INDEX IF NOT EXISTS complaint_summary_opd_priority_due
    ON complaint_summary (opd, priority_rank, due_key, complaint_id);
CREATE INDEX IF NOT EXISTS complaint_summary_opd_updated
    ON complaint_summary (opd, updated_at, complaint_id);
-- An officer's own queue (`assignedToMe`, `officerId`).
CREATE INDEX IF NOT EXISTS complaint_summary_officer_due
    ON complaint_summary (officer_id, due_key, complaint_id) WHERE officer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS complaint_summary_officer_priority_due
    ON complaint_summary (officer_id, priority_rank, due_key, complaint_id)
    WHERE officer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS complaint_summary_officer_created
    ON complaint_summary (officer_id, created_at, complaint_id) WHERE officer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS complaint_summary_officer_updated
    ON complaint_summary (officer_id, updated_at, complaint_id) WHERE officer_id IS NOT NULL;
-- An OPD admin's dispatch (`unassignedOfficer`) and escalations (`escalated`).
CREATE INDEX IF NOT EXISTS complaint_summary_opd_unassigned_due
    ON complaint_summary (opd, due_key, complaint_id)
    WHERE opd IS NOT NULL AND officer_id IS NULL;
CREATE INDEX IF NOT EXISTS complaint_summary_escalated_due
    ON complaint_summary (due_key, complaint_id) WHERE escalation_level > 0;
CREATE INDEX IF NOT EXISTS complaint_summary_opd_escalated_due
    ON complaint_summary (opd, due_key, complaint_id) WHERE escalation_level > 0;
-- Reports linked to a primary (`duplicate`).
CREATE INDEX IF NOT EXISTS complaint_summary_linked_due
    ON complaint_summary (due_key, complaint_id) WHERE primary_id IS NOT NULL;
