-- Case numbers (see the PostgreSQL migration of the same name).
CREATE TABLE IF NOT EXISTS case_numbers (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

ALTER TABLE complaint_summary ADD COLUMN number TEXT;
CREATE INDEX IF NOT EXISTS complaint_summary_number ON complaint_summary (number);
