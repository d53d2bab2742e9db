-- Text search over what was written about a case (see the PostgreSQL
-- migration of the same name): the projector writes the stems to `search_main`
-- and `search_more`; an FTS5 index over them follows the table through its
-- triggers, in the projector's own transaction. The index refers to rows by
-- rowid: after a VACUUM (which may renumber them) or a rebuild of the projection
-- it is rebuilt with `INSERT INTO complaint_summary_fts(complaint_summary_fts)
-- VALUES ('rebuild')` (the projection's rebuild does so itself).
DELETE FROM complaint_summary;
DELETE FROM complaint_summary_rollup;
DELETE FROM projection_checkpoints WHERE name = 'complaint_summary';

ALTER TABLE complaint_summary ADD COLUMN search_main TEXT NOT NULL DEFAULT '';
ALTER TABLE complaint_summary ADD COLUMN search_more TEXT NOT NULL DEFAULT '';

-- The stems are words of letters and digits already; diacritics are kept as
-- PostgreSQL's 'simple' configuration keeps them.
CREATE VIRTUAL TABLE IF NOT EXISTS complaint_summary_fts USING fts5(
    search_main, search_more,
    content = 'complaint_summary',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER IF NOT EXISTS complaint_summary_fts_insert AFTER INSERT ON complaint_summary
BEGIN
    INSERT INTO complaint_summary_fts (rowid, search_main, search_more)
    VALUES (new.rowid, new.search_main, new.search_more);
END;

CREATE TRIGGER IF NOT EXISTS complaint_summary_fts_delete AFTER DELETE ON complaint_summary
BEGIN
    INSERT INTO complaint_summary_fts (complaint_summary_fts, rowid, search_main, search_more)
    VALUES ('delete', old.rowid, old.search_main, old.search_more);
END;

CREATE TRIGGER IF NOT EXISTS complaint_summary_fts_update AFTER UPDATE ON complaint_summary
WHEN old.search_main IS NOT new.search_main OR old.search_more IS NOT new.search_more
BEGIN
    INSERT INTO complaint_summary_fts (complaint_summary_fts, rowid, search_main, search_more)
    VALUES ('delete', old.rowid, old.search_main, old.search_more);
    INSERT INTO complaint_summary_fts (rowid, search_main, search_more)
    VALUES (new.rowid, new.search_main, new.search_more);
END;
