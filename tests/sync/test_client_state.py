"""The reference client's local copy (sync/client/state.py): whatever order pull pages and push answers
(stored ones replayed late included) arrive in, a record's copy never goes back to an older version."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from sync.client.state import LocalState

ENTITY, RECORD = "hazard", "6c1f0d6e-0b9a-4d43-9a57-3f1f6f3b8a10"

# (kind, version): a pulled upsert or tombstone, a record in a push answer (applied, or a conflict's
# current), or the start of a snapshot (the copy emptied).
writes = st.lists(st.one_of(
    st.tuples(st.sampled_from(["pulled", "tombstone", "answer"]), st.integers(1, 8)),
    st.just(("snapshot", None))), max_size=30)


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
                    state.put_record_tx(ENTITY, RECORD, version, {"version": version, "from": kind},
                                        pulled=kind == "pulled")
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
