-- SLA-state pages without walking the newest cases (see the PostgreSQL migration
-- of the same name and crates/projections/src/sla_sweep.rs).
ALTER TABLE complaint_summary ADD COLUMN sla_state_swept TEXT;

CREATE INDEX IF NOT EXISTS complaint_summary_swept_created
    ON complaint_summary (sla_state_swept, created_at, complaint_id);

CREATE TABLE IF NOT EXISTS sla_sweeps
(
    name     TEXT PRIMARY KEY,
    swept_at TEXT
);
