-- Open311's service request updates are read by time (start_date/end_date):
-- an index on when each event was recorded, so such a read is a range of it.
CREATE INDEX IF NOT EXISTS events_recorded_at ON events (recorded_at, position);
