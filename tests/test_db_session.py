"""The application's connections (db.session): the settings every statement of the app runs under."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db.session import make_engine, make_read_engine


@pytest.mark.parametrize("make", [make_engine, make_read_engine], ids=["writes", "reads"])
def test_connections_run_in_utc_without_jit(database_url, make):
    """JIT compiled the push's photo-naming statement for ≈ 290 ms to run it in 2 ms once photo_refs had
    grown past PostgreSQL's cost threshold (issue 23: push fell from ≈ 450 to ≈ 210 changes/s on a county
    that had taken eight benchmark runs); no statement of the app runs long enough to repay compiling."""
    engine = make(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW jit")).scalar_one() == "off"
            assert connection.execute(text("SHOW timezone")).scalar_one() == "UTC"
    finally:
        engine.dispose()
