-- Hand-offs (issue 25): one row per holder's stay with a case (an OPD, or
-- COMMAND_CENTER before dispatch and after a return), with the working time
-- it held the case by the business calendar (waits for the citizen and
-- duplicate links not counted) and how the stay ended. See
-- crates/projections/src/handoffs.rs and docs/analytics.md.
CREATE TABLE IF NOT EXISTS handoff_legs
(
    complaint_id    text        NOT NULL,
    seq             INTEGER     NOT NULL,
    holder          text        NOT NULL,
    started_at      TEXT        NOT NULL,
    ended_at        TEXT       ,
    working_seconds INTEGER     NOT NULL,
    ended           text        NOT NULL,
    handed_to       text,
    reason_code     text,
    looped          INTEGER     NOT NULL,
    case_resolved   INTEGER     NOT NULL,
    category        text        NOT NULL,
    last_position   INTEGER     NOT NULL,
    PRIMARY KEY (complaint_id, seq)
);

CREATE INDEX IF NOT EXISTS handoff_legs_ended_at ON handoff_legs (ended_at);
CREATE INDEX IF NOT EXISTS handoff_legs_holder ON handoff_legs (holder, ended_at);
