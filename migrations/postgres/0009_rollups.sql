-- Roll-ups kept by the projector beside each projection's rows, in the same
-- transaction (see crates/projections/src/rollup.rs): dashboards and list counts
-- then cost the days or keys they span, not the complaints. `n` adds up what
-- the current rows contribute to (opd, day, measure); `day` is the UTC day the
-- case was created on, or '' for counters over all time.
CREATE TABLE IF NOT EXISTS complaint_summary_rollup
(
    opd     text   NOT NULL,
    day     text   NOT NULL,
    measure text   NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (opd, day, measure)
);

CREATE TABLE IF NOT EXISTS sla_timers_rollup
(
    opd     text   NOT NULL,
    day     text   NOT NULL,
    measure text   NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (opd, day, measure)
);

-- List totals read the all-time counters (day '') of every OPD.
CREATE INDEX IF NOT EXISTS complaint_summary_rollup_day
    ON complaint_summary_rollup (day, opd, measure);

-- The roll-ups are computed from the rows as the projector writes them: both
-- projections start over (the server rebuilds them at start).
TRUNCATE complaint_summary;
TRUNCATE sla_timers;
DELETE FROM projection_checkpoints WHERE name IN ('complaint_summary', 'sla_timers');

-- The SLA-state filter's exact part (cases whose clocks turn today) and the
-- dashboard's "overdue since this morning" read ranges of these.
CREATE INDEX IF NOT EXISTS complaint_summary_sla_at_risk
    ON complaint_summary (sla_at_risk_at) WHERE sla_at_risk_at IS NOT NULL;
-- Exact percentiles: the values of one histogram bucket.
CREATE INDEX IF NOT EXISTS sla_timers_stopped_used
    ON sla_timers (opd, leg, used_seconds, case_created_at) WHERE stopped_at IS NOT NULL;
-- Open cases by OPD and creation time: the dashboard splits the day holding a
-- backlog-age boundary by counting these.
CREATE INDEX IF NOT EXISTS complaint_summary_open_opd_created
    ON complaint_summary (opd, created_at) WHERE status NOT IN ('CLOSED', 'REJECTED');
