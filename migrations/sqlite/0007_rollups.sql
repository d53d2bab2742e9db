-- Roll-ups kept by the projector beside each projection's rows (see the
-- PostgreSQL migration of the same name).
CREATE TABLE IF NOT EXISTS complaint_summary_rollup
(
    opd     TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    measure TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (opd, day, measure)
);

CREATE TABLE IF NOT EXISTS sla_timers_rollup
(
    opd     TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    measure TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (opd, day, measure)
);

CREATE INDEX IF NOT EXISTS complaint_summary_rollup_day
    ON complaint_summary_rollup (day, opd, measure);

DELETE FROM complaint_summary;
DELETE FROM sla_timers;
DELETE FROM projection_checkpoints WHERE name IN ('complaint_summary', 'sla_timers');

CREATE INDEX IF NOT EXISTS complaint_summary_sla_deadline
    ON complaint_summary (sla_deadline) WHERE sla_deadline IS NOT NULL;
CREATE INDEX IF NOT EXISTS complaint_summary_sla_at_risk
    ON complaint_summary (sla_at_risk_at) WHERE sla_at_risk_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sla_timers_stopped_used
    ON sla_timers (opd, leg, used_seconds, case_created_at) WHERE stopped_at IS NOT NULL;
-- Open cases by OPD and creation time: the dashboard splits the day holding a
-- backlog-age boundary by counting these.
CREATE INDEX IF NOT EXISTS complaint_summary_open_opd_created
    ON complaint_summary (opd, created_at) WHERE status NOT IN ('CLOSED', 'REJECTED');
