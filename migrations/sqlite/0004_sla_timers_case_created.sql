-- Dashboards select clocks by when their case was created (see the PostgreSQL
-- migration of the same name). The projection starts over.
DELETE FROM sla_timers;
DELETE FROM projection_checkpoints WHERE name = 'sla_timers';

ALTER TABLE sla_timers ADD COLUMN case_created_at TEXT NOT NULL DEFAULT '';

CREATE INDEX IF NOT EXISTS sla_timers_opd_case_created ON sla_timers (opd, case_created_at);
CREATE INDEX IF NOT EXISTS sla_timers_case_created ON sla_timers (case_created_at);
