"""Compaction of the change feed (变更日志压缩): keep ``change_log`` bounded.

A pull serves each record at its latest change, so a row that a later change of the same record
superseded is needed only by a cursor from before that later change — and a tombstone only by a
cursor from before it. Rows older than the retention (and below every transaction still running)
that are superseded, or are tombstones, are deleted in one statement; the position below which this
was done is kept as the feed's floor, and a cursor before the floor answers ``reset``. Each record's
latest row stays, so a pull from the start (a new phone, a reset) still finds every record. An
advisory lock keeps a compaction from falling between a pull's reading of the floor and of the rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.clock import Clock
from sync.pull import COMPACTION_LOCK, horizon

# The newest position older than the cutoff and below the horizon: it and everything before it may go
# (a cursor AT the floor has seen its row; only one before it can miss something).
FLOOR = """
SELECT c.txid::text AS txid, c.seq FROM change_log c
 WHERE c.at < :cutoff AND c.txid < CAST(:horizon AS text)::xid8
 ORDER BY c.txid DESC, c.seq DESC LIMIT 1
"""

COMPACT = """
DELETE FROM change_log c
 WHERE (c.txid, c.seq) <= (CAST(:floor_t AS text)::xid8, :floor_s)
   AND (c.op = 'delete'
        OR EXISTS (SELECT 1 FROM change_log later
                    WHERE later.entity = c.entity AND later.entity_id = c.entity_id
                      AND (later.txid, later.seq) > (c.txid, c.seq)))
"""

RAISE_FLOOR = """
INSERT INTO change_log_floor (id, txid, seq, compacted_at)
VALUES (1, CAST(:floor_t AS text)::xid8, :floor_s, :now)
ON CONFLICT (id) DO UPDATE SET txid = excluded.txid, seq = excluded.seq, compacted_at = excluded.compacted_at
 WHERE (change_log_floor.txid, change_log_floor.seq) < (excluded.txid, excluded.seq)
"""


def compact_change_log(session: Session, clock: Clock, retention_days: int) -> dict:
    """Delete superseded rows and tombstones older than ``retention_days``; raise the floor."""
    # Waits for pulls in flight; pulls that start meanwhile wait for this transaction to commit.
    session.execute(text(f"SELECT pg_advisory_xact_lock({COMPACTION_LOCK})"))
    now = clock.now()
    floor = session.execute(
        text(FLOOR), {"cutoff": now - timedelta(days=retention_days), "horizon": horizon(session)}
    ).one_or_none()
    if floor is None:
        return {"rows_removed": 0, "floor": None}
    params = {"floor_t": floor.txid, "floor_s": floor.seq, "now": now}
    removed = session.execute(text(COMPACT), params).rowcount
    session.execute(text(RAISE_FLOOR), params)
    return {"rows_removed": removed, "floor": [int(floor.txid), floor.seq]}
