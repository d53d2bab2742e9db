-- BRANCH `shred` ONLY, TO BE DROPPED AT THE MERGE: the audit chain's
-- 0013_audit_chain.sql lets unsealed rows (hash IS NULL) be updated, which
-- covers this. Until then, the one update events allow is the start-up pass
-- that seals a version 1 row's personal data in place (payload and version,
-- nothing else).
CREATE OR REPLACE FUNCTION events_are_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.event_version = '1' AND NEW.event_version = '2'
        AND NEW.aggregate_type = OLD.aggregate_type AND NEW.aggregate_id = OLD.aggregate_id
        AND NEW.sequence = OLD.sequence AND NEW.event_type = OLD.event_type
        AND NEW.metadata::text = OLD.metadata::text AND NEW.position = OLD.position
        AND NEW.tx_id = OLD.tx_id AND NEW.recorded_at = OLD.recorded_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are immutable: % refused', TG_OP;
END;
$$;
