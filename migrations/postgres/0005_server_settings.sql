-- Server-wide values kept with the data, such as the generated development
-- signing secret (so a data directory or database is all there is to back up).
CREATE TABLE IF NOT EXISTS server_settings
(
    key   text PRIMARY KEY,
    value text NOT NULL
);
