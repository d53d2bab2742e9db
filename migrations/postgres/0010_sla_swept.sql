-- SLA-state pages without walking the newest cases (see
-- crates/projections/src/sla_sweep.rs): each row's standing as of the last sweep,
-- kept by a periodic sweep in the projector; the projector writes NULL ("not swept
-- yet") with every row it writes. Existing rows start unswept, which is correct
-- (unswept rows are always read), only slower until the first sweep.
ALTER TABLE complaint_summary ADD COLUMN sla_state_swept text;

CREATE INDEX IF NOT EXISTS complaint_summary_swept_created
    ON complaint_summary (sla_state_swept, created_at DESC, complaint_id DESC);

-- The rows written since the last sweep, newest first (few: the projector's
-- writes of the last few seconds; a rebuilt table's every row until its first sweep).
CREATE INDEX IF NOT EXISTS complaint_summary_unswept
    ON complaint_summary (created_at DESC, complaint_id DESC) WHERE sla_state_swept IS NULL;

-- The instant each table was last swept to (NULL: never).
CREATE TABLE IF NOT EXISTS sla_sweeps
(
    name     text PRIMARY KEY,
    swept_at timestamptz
);
