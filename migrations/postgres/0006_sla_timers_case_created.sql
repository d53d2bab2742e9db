-- Dashboards select clocks by when their case was created; carrying that instant
-- on each clock spares a join with complaint_summary. The projection is computed
-- from events, so it starts over (the server rebuilds it at start).
TRUNCATE sla_timers;
DELETE FROM projection_checkpoints WHERE name = 'sla_timers';

ALTER TABLE sla_timers ADD COLUMN case_created_at timestamptz NOT NULL;

CREATE INDEX IF NOT EXISTS sla_timers_opd_case_created ON sla_timers (opd, case_created_at);
CREATE INDEX IF NOT EXISTS sla_timers_case_created ON sla_timers (case_created_at);
