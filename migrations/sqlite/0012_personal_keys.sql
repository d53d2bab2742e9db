-- Keys that seal reporters' personal data (crypto-shredding, docs/erasure.md).
-- One row per key: the ciphertexts in events name their key by `key_id`.
-- Erasure sets `secret` to NULL and keeps when and why; the row stays, so an
-- erasure survives export and import and is never undone by a later write.
CREATE TABLE IF NOT EXISTS personal_keys
(
    key_id       TEXT PRIMARY KEY,
    complaint_id TEXT NOT NULL,
    -- What `eraseReporterData` names: the pseudonym of the reporter's account,
    -- or the case's own reference for a reporter without one.
    reporter_ref TEXT NOT NULL,
    -- Base64 of the 32-byte XChaCha20-Poly1305 key; NULL once erased.
    secret       TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    erased_at    TEXT,
    erase_reason TEXT,
    CHECK ((secret IS NULL) = (erased_at IS NOT NULL))
);

CREATE INDEX IF NOT EXISTS personal_keys_reporter ON personal_keys (reporter_ref);

-- Events written before personal data was sealed, still in plain text: the
-- start-up pass seals them in place and this index then stays empty.
CREATE INDEX IF NOT EXISTS events_plain_personal ON events (position)
    WHERE event_version = '1'
      AND event_type IN ('Submitted', 'InfoProvided', 'Rated', 'Reopened', 'AttachmentAdded');
