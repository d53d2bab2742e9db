-- Case numbers people can say (MKS-2026-004512, `aduan_domain::numbering`):
-- each year's count, drawn by the command bus before a submission's append
-- (one row per year, updated in place, so draws queue on the row for the
-- length of one statement). A refused submission leaves a gap.
CREATE TABLE IF NOT EXISTS case_numbers (
    year integer PRIMARY KEY,
    last bigint NOT NULL
);

-- Finding a case by the number a caller reads out. Cases from before numbers
-- have none, so no row changes: the projection need not start over.
ALTER TABLE complaint_summary ADD COLUMN number text;
CREATE INDEX IF NOT EXISTS complaint_summary_number ON complaint_summary (number);
