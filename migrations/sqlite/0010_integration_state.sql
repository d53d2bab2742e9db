-- What the integration layer remembers between runs, outside the event log:
-- webhook endpoints, the national bridge's inbound cursor and its per-case
-- sync state. Small documents (JSON text) by kind and key; the events stay the
-- only record of what happened to a complaint.
CREATE TABLE IF NOT EXISTS integration_state (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (kind, key)
);
