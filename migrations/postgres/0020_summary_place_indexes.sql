-- Reads by place (issue 23). Nearby suggestions ask for one category around a
-- point since a date: each of the circle's cells is one range of this index,
-- whatever the other categories hold there.
CREATE INDEX IF NOT EXISTS complaint_summary_category_cell
    ON complaint_summary (category, h3_cell, created_at);

-- A map's box (`within`): a latitude range, the longitude checked in the index.
CREATE INDEX IF NOT EXISTS complaint_summary_latitude
    ON complaint_summary (latitude, longitude);
