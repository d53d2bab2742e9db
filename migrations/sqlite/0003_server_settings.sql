-- Server-wide values kept with the data, such as the generated development
-- signing secret: the one file holds everything.
CREATE TABLE IF NOT EXISTS server_settings
(
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
