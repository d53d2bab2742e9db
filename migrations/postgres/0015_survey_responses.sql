-- The satisfaction survey (IKM, PermenPANRB No. 14 of 2017): one row per answered
-- survey, the nine element scores (1-4) as integers, so the index is summed
-- exactly (see crates/projections/src/survey.rs). `answered_day` is the city's
-- local date of the answer; `opd` the OPD the case was with when answered.
CREATE TABLE IF NOT EXISTS survey_responses
(
    complaint_id  text        PRIMARY KEY,
    opd           text,
    category      text        NOT NULL,
    answered_at   timestamptz NOT NULL,
    answered_day  text        NOT NULL,
    u1            bigint      NOT NULL,
    u2            bigint      NOT NULL,
    u3            bigint      NOT NULL,
    u4            bigint      NOT NULL,
    u5            bigint      NOT NULL,
    u6            bigint      NOT NULL,
    u7            bigint      NOT NULL,
    u8            bigint      NOT NULL,
    u9            bigint      NOT NULL,
    last_position bigint      NOT NULL
);

CREATE INDEX IF NOT EXISTS survey_responses_answered ON survey_responses (answered_at);
CREATE INDEX IF NOT EXISTS survey_responses_opd_answered ON survey_responses (opd, answered_at);
