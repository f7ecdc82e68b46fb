"""The reference client's local copy (sync/client/state.py): whatever order pull pages and push answers
(stored ones replayed late included) arrive in, a record's copy never goes back to an older version."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings, strategies as st

from sync.client.state import LocalState

ENTITY, RECORD = "hazard", "6c1f0d6e-0b9a-4d43-9a57-3f1f6f3b8a10"

# (kind, version): a pulled upsert or tombstone, a record in a push answer (applied, or a conflict's
# current), or the start of a snapshot (the copy emptied).
writes = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["pulled", "tombstone", "answer"]), st.integers(1, 8)), st.just(("snapshot", None))
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(writes)
def test_the_local_copy_never_goes_back_to_an_older_version(sequence):
    state = LocalState(":memory:")
    try:
        tombstone = None  # the version of the pull's last tombstone, while the record is out of the copy
        for kind, version in sequence:
            before = state.record(ENTITY, RECORD)
            held = before["version"] if before else None
            with state.transaction():
                if kind == "snapshot":
                    state.clear_records_tx()
                elif kind == "tombstone":
                    state.delete_record_tx(ENTITY, RECORD, version)
                else:
                    state.put_record_tx(
                        ENTITY, RECORD, version, {"version": version, "from": kind}, pulled=kind == "pulled"
                    )
            after = state.record(ENTITY, RECORD)

            if kind == "snapshot":
                assert after is None
                tombstone = None
            elif kind == "tombstone":
                assert after is None
                tombstone = version
            elif kind == "pulled":
                # The feed's word stands unless the copy already holds a newer version.
                assert after["version"] == max(version, held or 0)
                assert after["from"] == "pulled" or held > version
                tombstone = None
            elif before is not None:
                assert after["version"] == max(version, held)
                assert after == before or version > held
            elif tombstone is not None and version <= tombstone:
                assert after is None, "a stale answer brought back a record the pull had deleted"
            else:
                assert after["version"] == version
                tombstone = None
    finally:
        state.close()


def test_a_state_file_of_an_earlier_client_keeps_its_queue(tmp_path):
    """Changes queued before the client kept what each transition's user saw: still there, seen unknown."""
    path = tmp_path / "phone.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("""CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, entity TEXT NOT NULL,
                      op TEXT NOT NULL, id TEXT NOT NULL, base_version INTEGER, recorded_at TEXT NOT NULL,
                      data TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued', batch_id TEXT,
                      attempts INTEGER NOT NULL DEFAULT 0, rebased INTEGER NOT NULL DEFAULT 0, result TEXT)""")
        db.execute(
            "INSERT INTO changes (entity, op, id, base_version, recorded_at, data) VALUES "
            "('hazard', 'transition', ?, 3, '2026-11-22T09:00:00+08:00', '{\"action\": \"verify\"}')",
            (RECORD,),
        )
    state = LocalState(path)
    try:
        [queued] = state.changes("queued")
        assert (queued.id, queued.base_version, queued.data, queued.seen) == (RECORD, 3, {"action": "verify"}, None)
        with state.transaction():
            added = state.add_change(
                ENTITY, "transition", RECORD, 4, "2026-11-22T10:00:00+08:00", {"action": "verify"}, seen={"version": 4}
            )
        assert added.seen == {"version": 4}
    finally:
        state.close()
