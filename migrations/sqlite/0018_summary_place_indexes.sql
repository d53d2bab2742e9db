-- Reads by place (see the PostgreSQL migration of the same name).
CREATE INDEX IF NOT EXISTS complaint_summary_category_cell
    ON complaint_summary (category, h3_cell, created_at);

CREATE INDEX IF NOT EXISTS complaint_summary_latitude
    ON complaint_summary (latitude, longitude);
