-- Breaches charged to the holder whose stay their deadline fell in, and the
-- case's creation instant (the dashboard counts the cases created in its
-- range). The projection starts over to fill them.
DELETE FROM handoff_legs;
DELETE FROM projection_checkpoints WHERE name = 'handoff_legs';

ALTER TABLE handoff_legs ADD COLUMN breaches bigint NOT NULL DEFAULT 0;
ALTER TABLE handoff_legs ADD COLUMN case_created_at timestamptz NOT NULL DEFAULT 'epoch';

CREATE INDEX IF NOT EXISTS handoff_legs_breaches
    ON handoff_legs (case_created_at, holder) WHERE breaches > 0;
