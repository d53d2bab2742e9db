-- Work queues (see the PostgreSQL migration of the same name). SQLite adds a
-- generated column as VIRTUAL only; its indexes store the values.
ALTER TABLE complaint_summary ADD COLUMN due_key TEXT GENERATED ALWAYS AS (
    CASE WHEN sla_deadline IS NOT NULL AND sla_state IS NOT NULL AND sla_state <> 'MET'
         THEN sla_deadline ELSE '9999-12-31T23:59:59+00:00' END) VIRTUAL;
ALTER TABLE complaint_summary ADD COLUMN priority_rank INTEGER GENERATED ALWAYS AS (
    CASE priority WHEN 'EMERGENCY' THEN 0 WHEN 'HIGH' THEN 1
                  WHEN 'NORMAL' THEN 2 ELSE 3 END) VIRTUAL;

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
