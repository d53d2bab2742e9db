-- Each case's SLA standing in the summary (the worst of its legs at its last event,
-- plus when its running clocks turn AT_RISK and BREACHED), and since when each
-- timer has been in its state. Both are computed from events, which the existing
-- rows were not built with: the two projections start over from the first event
-- (the server rebuilds them at start; lists fill up as it goes).
TRUNCATE complaint_summary;
TRUNCATE sla_timers;
DELETE FROM projection_checkpoints WHERE name IN ('complaint_summary', 'sla_timers');

ALTER TABLE complaint_summary
    ADD COLUMN sla_state      text,          -- ON_TRACK, AT_RISK, BREACHED, MET; null: no clock
    ADD COLUMN sla_at_risk_at timestamptz,   -- earliest AT_RISK instant of a running clock
    ADD COLUMN sla_deadline   timestamptz;   -- earliest deadline of a running clock

ALTER TABLE sla_timers ADD COLUMN state_changed_at timestamptz NOT NULL;

-- Lists are newest first within a status or an OPD.
CREATE INDEX IF NOT EXISTS complaint_summary_status_created
    ON complaint_summary (status, created_at DESC, complaint_id DESC);
CREATE INDEX IF NOT EXISTS complaint_summary_opd_created
    ON complaint_summary (opd, created_at DESC, complaint_id DESC);
-- Dashboards of open work: running clocks by OPD.
CREATE INDEX IF NOT EXISTS complaint_summary_sla_deadline
    ON complaint_summary (sla_deadline) WHERE sla_deadline IS NOT NULL;
