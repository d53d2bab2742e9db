-- The satisfaction survey (IKM, PermenPANRB No. 14 of 2017): one row per answered
-- survey, the nine element scores (1-4) as integers, so the index is summed
-- exactly (see crates/projections/src/survey.rs). `answered_day` is the city's
-- local date of the answer; `opd` the OPD the case was with when answered.
CREATE TABLE IF NOT EXISTS survey_responses
(
    complaint_id  TEXT        PRIMARY KEY,
    opd           text,
    category      TEXT        NOT NULL,
    answered_at   TEXT        NOT NULL,
    answered_day  TEXT        NOT NULL,
    u1            INTEGER     NOT NULL,
    u2            INTEGER     NOT NULL,
    u3            INTEGER     NOT NULL,
    u4            INTEGER     NOT NULL,
    u5            INTEGER     NOT NULL,
    u6            INTEGER     NOT NULL,
    u7            INTEGER     NOT NULL,
    u8            INTEGER     NOT NULL,
    u9            INTEGER     NOT NULL,
    last_position INTEGER     NOT NULL
);

CREATE INDEX IF NOT EXISTS survey_responses_answered ON survey_responses (answered_at);
CREATE INDEX IF NOT EXISTS survey_responses_opd_answered ON survey_responses (opd, answered_at);
