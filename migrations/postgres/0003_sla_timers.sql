-- One row per complaint and SLA leg. Computed from event timestamps only; the
-- state of a running clock at any later instant follows from deadline and
-- at_risk_at (see crates/domain/src/sla/timer.rs: state_at).
CREATE TABLE IF NOT EXISTS sla_timers
(
    complaint_id     text        NOT NULL,
    leg              text        NOT NULL,   -- DISPATCH, RESPOND, RESOLVE
    opd              text,
    category         text        NOT NULL,
    priority         text        NOT NULL,
    policy_version   integer     NOT NULL,
    target_amount    bigint      NOT NULL,
    target_unit      text        NOT NULL,
    target_seconds   bigint      NOT NULL,
    started_at       timestamptz NOT NULL,
    deadline         timestamptz NOT NULL,
    at_risk_at       timestamptz NOT NULL,
    stopped_at       timestamptz,
    paused           boolean     NOT NULL,
    -- Working (or calendar) seconds used up to the last event.
    used_seconds     bigint      NOT NULL,
    -- The state at the last event: final once stopped, frozen while paused.
    state            text        NOT NULL,
    explanation      jsonb       NOT NULL,
    last_position    bigint      NOT NULL,
    PRIMARY KEY (complaint_id, leg)
);

CREATE INDEX IF NOT EXISTS sla_timers_running_deadline ON sla_timers (deadline) WHERE stopped_at IS NULL;
CREATE INDEX IF NOT EXISTS sla_timers_opd ON sla_timers (opd, leg);
