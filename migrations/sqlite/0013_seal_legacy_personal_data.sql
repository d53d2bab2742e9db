-- BRANCH `shred` ONLY, TO BE DROPPED AT THE MERGE: the audit chain's
-- 0011_audit_chain.sql lets unsealed rows (hash IS NULL) be updated, which
-- covers this. Until then, the one update events allow is the start-up pass
-- that seals a version 1 row's personal data in place (payload and version,
-- nothing else).
DROP TRIGGER IF EXISTS events_immutable_update;

CREATE TRIGGER events_immutable_update BEFORE UPDATE ON events
    WHEN NOT (OLD.event_version = '1' AND NEW.event_version = '2'
        AND NEW.position = OLD.position AND NEW.aggregate_type = OLD.aggregate_type
        AND NEW.aggregate_id = OLD.aggregate_id AND NEW.sequence = OLD.sequence
        AND NEW.event_type = OLD.event_type AND NEW.metadata = OLD.metadata
        AND NEW.recorded_at = OLD.recorded_at)
BEGIN
    SELECT RAISE(ABORT, 'events are immutable');
END;
