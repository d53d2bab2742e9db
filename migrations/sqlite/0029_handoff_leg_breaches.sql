-- Breaches charged to the holder whose stay their deadline fell in, and the
-- case's creation instant (see the PostgreSQL migration of the same name).
DELETE FROM handoff_legs;
DELETE FROM projection_checkpoints WHERE name = 'handoff_legs';

ALTER TABLE handoff_legs ADD COLUMN breaches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handoff_legs ADD COLUMN case_created_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00Z';

CREATE INDEX IF NOT EXISTS handoff_legs_breaches
    ON handoff_legs (case_created_at, holder) WHERE breaches > 0;
