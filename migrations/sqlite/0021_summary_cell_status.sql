-- Lists near a point by status (see the PostgreSQL migration of the same name).
CREATE INDEX IF NOT EXISTS complaint_summary_cell_status
    ON complaint_summary (h3_cell, status, created_at);
