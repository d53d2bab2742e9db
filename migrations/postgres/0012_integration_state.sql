-- What the integration layer remembers between runs, outside the event log:
-- webhook endpoints, the national bridge's inbound cursor and its per-case
-- sync state. Small documents (JSON text) by kind and key; the events stay the
-- only record of what happened to a complaint.
CREATE TABLE IF NOT EXISTS integration_state (
    kind text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, key)
);
