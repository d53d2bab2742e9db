-- Text search over what was written about a case (docs/api.md, "Search"):
-- the stems of its title and description (`search_main`, weight A) and of its
-- responses, PUBLIC notes and closing summaries (`search_more`, weight B).
-- The stems are computed by the projector (`aduan_domain::search`, the Snowball
-- Indonesian algorithm of the `indonesian` configuration), so the tsvector takes
-- them as they are ('simple'): both stores match the same stems.
-- Computed from events, so the projection and its roll-up start over (the
-- server replays them at start).
TRUNCATE complaint_summary;
TRUNCATE complaint_summary_rollup;
DELETE FROM projection_checkpoints WHERE name = 'complaint_summary';

ALTER TABLE complaint_summary ADD COLUMN search_main text NOT NULL DEFAULT '';
ALTER TABLE complaint_summary ADD COLUMN search_more text NOT NULL DEFAULT '';
ALTER TABLE complaint_summary ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, search_main), 'A')
    || setweight(to_tsvector('simple'::regconfig, search_more), 'B')
) STORED;

CREATE INDEX IF NOT EXISTS complaint_summary_search
    ON complaint_summary USING gin (search_tsv);
