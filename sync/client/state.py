"""The phone's local state in one SQLite file: the queue of changes, the batch in flight, photos to
upload, the pull cursor and the local copy of pulled records.

Every step that must survive a crash is one SQLite transaction: a batch is written (id and members)
before it is sent, and its answer is applied together with everything it changes in the queue."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- One row per recorded change, in the order the user made them (seq). state: queued | conflict | rejected.
-- Applied and duplicate changes leave the table. batch_id: the batch in flight this change belongs to.
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    op TEXT NOT NULL,
    id TEXT NOT NULL,
    base_version INTEGER,
    recorded_at TEXT NOT NULL,
    data TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    batch_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    rebased INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    seen TEXT  -- a transition's record as the local copy showed it when the change was recorded
);
CREATE INDEX IF NOT EXISTS changes_record ON changes (entity, id);
-- Batches sent; answer is NULL while the batch is in flight (at most one such row).
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    sends INTEGER NOT NULL DEFAULT 0,
    answer TEXT
);
-- state: pending | held | failed. sent_bytes: how far the server had it at the last look.
CREATE TABLE IF NOT EXISTS photos (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    sent_bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE TABLE IF NOT EXISTS records (
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER,
    data TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
-- Records the pull deleted (left the user's view), with the tombstone's version: an answer to a push,
-- perhaps a stored one replayed long after, must not bring them back.
CREATE TABLE IF NOT EXISTS tombstones (
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER,
    PRIMARY KEY (entity, id)
);
"""

# Answered batches kept for `status` and debugging; older ones are pruned.
KEEP_BATCHES = 50


@dataclass
class QueuedChange:
    seq: int
    entity: str
    op: str
    id: str
    base_version: int | None
    recorded_at: str
    data: dict
    state: str = "queued"
    batch_id: str | None = None
    attempts: int = 0
    rebased: int = 0
    result: dict | None = None
    seen: dict | None = None

    def wire(self) -> dict:
        """The change as the protocol sends it."""
        out = {"entity": self.entity, "op": self.op, "id": self.id, "recorded_at": self.recorded_at, "data": self.data}
        if self.base_version is not None:
            out["base_version"] = self.base_version
        return out

    @property
    def key(self) -> tuple[str, str]:
        return self.entity, self.id

    def summary(self) -> dict:
        return {
            "seq": self.seq,
            "entity": self.entity,
            "op": self.op,
            "id": self.id,
            "action": self.data.get("action"),
            "base_version": self.base_version,
            "state": self.state,
            "attempts": self.attempts,
            "result": self.result,
        }


def _change(row: sqlite3.Row) -> QueuedChange:
    return QueuedChange(
        seq=row["seq"],
        entity=row["entity"],
        op=row["op"],
        id=row["id"],
        base_version=row["base_version"],
        recorded_at=row["recorded_at"],
        data=json.loads(row["data"]),
        state=row["state"],
        batch_id=row["batch_id"],
        attempts=row["attempts"],
        rebased=row["rebased"],
        result=json.loads(row["result"]) if row["result"] else None,
        seen=json.loads(row["seen"]) if row["seen"] else None,
    )


class LocalState:
    """All reads and writes of the state file. Methods named ``*_tx`` expect to run inside
    ``with state.transaction():`` together with others."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        # autocommit mode: transactions are opened explicitly (BEGIN IMMEDIATE) by transaction().
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        if "seen" not in {r["name"] for r in self.db.execute("PRAGMA table_info(changes)")}:
            self.db.execute("ALTER TABLE changes ADD COLUMN seen TEXT")  # a state file of an earlier client

    def close(self) -> None:
        self.db.close()

    def transaction(self):
        return _Transaction(self.db)

    # ------------------------------------------------------------------ meta

    def get(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row["value"]) if row else default

    def set(self, key: str, value) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, ensure_ascii=False)),
            )

    # ------------------------------------------------------------------ the queue

    def add_change(
        self,
        entity: str,
        op: str,
        record_id: str,
        base_version: int | None,
        recorded_at: str,
        data: dict,
        *,
        seen: dict | None = None,
    ) -> QueuedChange:
        cur = self.db.execute(
            "INSERT INTO changes (entity, op, id, base_version, recorded_at, data, seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entity,
                op,
                record_id,
                base_version,
                recorded_at,
                json.dumps(data, ensure_ascii=False),
                json.dumps(seen, ensure_ascii=False) if seen is not None else None,
            ),
        )
        return self.change(cur.lastrowid)

    def change(self, seq: int) -> QueuedChange | None:
        row = self.db.execute("SELECT * FROM changes WHERE seq = ?", (seq,)).fetchone()
        return _change(row) if row else None

    def changes(
        self, state: str | None = None, *, key: tuple[str, str] | None = None, batch_id: str | None = None
    ) -> list[QueuedChange]:
        where, args = [], []
        if state:
            where.append("state = ?")
            args.append(state)
        if key:
            where += ["entity = ?", "id = ?"]
            args += list(key)
        if batch_id:
            where.append("batch_id = ?")
            args.append(batch_id)
        sql = "SELECT * FROM changes" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
        return [_change(r) for r in self.db.execute(sql, args)]

    def update_change_tx(self, seq: int, **values) -> None:
        if "result" in values and values["result"] is not None:
            values["result"] = json.dumps(values["result"], ensure_ascii=False)
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE changes SET {sets} WHERE seq = ?", [*values.values(), seq])

    def remove_change_tx(self, seq: int) -> None:
        self.db.execute("DELETE FROM changes WHERE seq = ?", (seq,))

    # ------------------------------------------------------------------ batches

    def open_batch(self, batch_id: str, seqs: list[int], created_at: str) -> None:
        """Fix a batch (its id and members) before it is first sent: every retry re-sends exactly it."""
        with self.transaction():
            self.db.execute("INSERT INTO batches (batch_id, created_at) VALUES (?, ?)", (batch_id, created_at))
            self.db.executemany("UPDATE changes SET batch_id = ? WHERE seq = ?", [(batch_id, s) for s in seqs])

    def pending_batch(self) -> str | None:
        row = self.db.execute(
            "SELECT batch_id FROM batches WHERE answer IS NULL ORDER BY created_at LIMIT 1"
        ).fetchone()
        return row["batch_id"] if row else None

    def count_send(self, batch_id: str) -> None:
        self.db.execute("UPDATE batches SET sends = sends + 1 WHERE batch_id = ?", (batch_id,))

    def close_batch_tx(self, batch_id: str, answer: dict | None) -> None:
        """Store the answer (None: the batch was refused whole and is dropped) and free its members."""
        if answer is None:
            self.db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
        else:
            self.db.execute(
                "UPDATE batches SET answer = ? WHERE batch_id = ?", (json.dumps(answer, ensure_ascii=False), batch_id)
            )
        self.db.execute("UPDATE changes SET batch_id = NULL WHERE batch_id = ?", (batch_id,))
        self.db.execute(
            "DELETE FROM batches WHERE answer IS NOT NULL AND batch_id NOT IN (SELECT batch_id FROM "
            "batches WHERE answer IS NOT NULL ORDER BY created_at DESC, rowid DESC LIMIT ?)",
            (KEEP_BATCHES,),
        )

    def batches(self) -> list[dict]:
        return [
            {
                "batch_id": r["batch_id"],
                "created_at": r["created_at"],
                "sends": r["sends"],
                "answer": json.loads(r["answer"]) if r["answer"] else None,
            }
            for r in self.db.execute("SELECT * FROM batches ORDER BY created_at, rowid")
        ]

    # ------------------------------------------------------------------ photos

    def add_photo(self, sha: str, path: str, size: int) -> None:
        self.db.execute(
            "INSERT INTO photos (sha256, path, size) VALUES (?, ?, ?) ON CONFLICT (sha256) DO UPDATE "
            "SET path = excluded.path, size = excluded.size, "
            "state = CASE photos.state WHEN 'held' THEN 'held' ELSE 'pending' END, error = NULL",
            (sha, path, size),
        )

    def photos(self, state: str | None = None) -> list[dict]:
        sql = "SELECT * FROM photos" + (" WHERE state = ?" if state else "") + " ORDER BY rowid"
        return [dict(r) for r in self.db.execute(sql, (state,) if state else ())]

    def update_photo(self, sha: str, **values) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE photos SET {sets} WHERE sha256 = ?", [*values.values(), sha])

    # ------------------------------------------------------------------ the local copy

    def record(self, entity: str, record_id: str) -> dict | None:
        row = self.db.execute(
            "SELECT version, data FROM records WHERE entity = ? AND id = ?", (entity, record_id)
        ).fetchone()
        if row is None:
            return None
        data = json.loads(row["data"])
        data.setdefault("version", row["version"])
        return data

    def records(self, entity: str | None = None) -> dict[tuple[str, str], dict]:
        sql = "SELECT entity, id, data FROM records" + (" WHERE entity = ?" if entity else "")
        return {
            (r["entity"], r["id"]): json.loads(r["data"]) for r in self.db.execute(sql, (entity,) if entity else ())
        }

    def versions(self) -> dict[tuple[str, str], int | None]:
        return {
            (r["entity"], r["id"]): r["version"] for r in self.db.execute("SELECT entity, id, version FROM records")
        }

    def record_counts(self) -> dict[str, int]:
        return {
            r["entity"]: r["n"]
            for r in self.db.execute("SELECT entity, count(*) AS n FROM records GROUP BY entity ORDER BY entity")
        }

    def put_record_tx(
        self, entity: str, record_id: str, version: int | None, data: dict, *, pulled: bool = True
    ) -> bool:
        """Write a record into the local copy unless that takes it backwards; returns whether it was written.

        A copy never goes back to an older version. A pulled record (the feed is ordered, and each record
        comes at its latest version) also replaces an equal version and brings back one deleted before.
        A record learnt from a push answer (``pulled=False``) may be a stored answer replayed long after
        the feed moved on: it is written only when it is newer than both the copy and the record's
        tombstone, or when the copy has never heard of the record."""
        held = self.db.execute(
            "SELECT version FROM records WHERE entity = ? AND id = ?", (entity, record_id)
        ).fetchone()
        if not pulled and held is None:
            held = self.db.execute(
                "SELECT version FROM tombstones WHERE entity = ? AND id = ?", (entity, record_id)
            ).fetchone()
        if held is not None:
            known = held["version"] is not None and version is not None
            if pulled and known and version < held["version"]:
                return False
            if not pulled and not (known and version > held["version"]):
                return False
        self.db.execute(
            "INSERT INTO records (entity, id, version, data) VALUES (?, ?, ?, ?) ON CONFLICT (entity, id) "
            "DO UPDATE SET version = excluded.version, data = excluded.data",
            (entity, record_id, version, json.dumps(data, ensure_ascii=False)),
        )
        self.db.execute("DELETE FROM tombstones WHERE entity = ? AND id = ?", (entity, record_id))
        return True

    def delete_record_tx(self, entity: str, record_id: str, version: int | None) -> None:
        """The pull's tombstone: the record leaves the copy, and answers no newer than ``version`` stay out."""
        self.db.execute("DELETE FROM records WHERE entity = ? AND id = ?", (entity, record_id))
        self.db.execute(
            "INSERT INTO tombstones (entity, id, version) VALUES (?, ?, ?) ON CONFLICT (entity, id) "
            "DO UPDATE SET version = excluded.version",
            (entity, record_id, version),
        )

    def clear_records_tx(self) -> None:
        self.db.execute("DELETE FROM records")
        self.db.execute("DELETE FROM tombstones")


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, tb):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
