-- A console's list near a point is of cases in some statuses (open ones):
-- each of the circle's cells is then one range of this index per status, so
-- the list and its count read the matching cases only, not every case the
-- place has had in ten years (docs/performance.md, "Reads by place").
CREATE INDEX IF NOT EXISTS complaint_summary_cell_status
    ON complaint_summary (h3_cell, status, created_at);
