-- The projectors' horizon, limited to this database. Reading events below
-- pg_snapshot_xmin(pg_current_snapshot()) is gap-safe but cluster-wide: a
-- transaction left open in any other database of the server (another
-- application, a migration, a test beside this one) held every projector
-- back. Transaction ids are cluster-wide, so a running id that a backend of
-- another database holds can never write here; only those are set aside. An id
-- whose owner is not seen (a prepared transaction, a backend that just moved
-- on to another id) still counts, so the horizon errs only towards waiting.
--
-- STABLE: the function sees the caller's snapshot, the one its events are read
-- in. Running ids at or above xmax are not in the snapshot's list; xmax is the
-- bound when no other id of this database runs.
CREATE OR REPLACE FUNCTION events_horizon() RETURNS xid8
LANGUAGE sql STABLE AS $$
    WITH snap AS (SELECT pg_current_snapshot() AS s),
    elsewhere AS (
        SELECT backend_xid FROM pg_stat_activity
        WHERE backend_xid IS NOT NULL
          AND datid IS DISTINCT FROM
              (SELECT oid FROM pg_database WHERE datname = current_database())
    )
    SELECT coalesce(
        (SELECT min(running) FROM snap, pg_snapshot_xip(snap.s) AS running
          WHERE xid(running) NOT IN (SELECT backend_xid FROM elsewhere)),
        (SELECT pg_snapshot_xmax(s) FROM snap))
$$;
