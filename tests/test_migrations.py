"""Migrations run from an empty database, down again, and the models match the schema; Alembic's model
registry (db/migrations/env.py) names every package that has tables."""

import importlib
import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect, text

from db.migrate import downgrade, upgrade
from db.base import Base
from tests.conftest import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
MODEL_MODULES = sorted(f"{p.parent.name}.models" for p in ROOT.glob("*/models.py"))
for _module in MODEL_MODULES:
    importlib.import_module(_module)
metadata = Base.metadata


def test_alembic_registry_names_every_models_module():
    env = (ROOT / "db" / "migrations" / "env.py").read_text(encoding="utf-8")
    registry = re.search(r"MODEL_MODULES = \((.*?)\)", env, re.S).group(1)
    assert sorted(re.findall(r'"([\w.]+)"', registry)) == MODEL_MODULES


def test_migrate_empty_database_up_down_up(server_url):
    url = create_database(server_url, prefix="anxun_migr")
    try:
        upgrade(url)
        engine = create_engine(url)
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert {"users", "devices", "access_tokens", "regions", "grids", "enterprises", "audit_log"} <= tables
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"include_object": alembic_helpers.include_object, "compare_type": False}
                ),
                metadata,
            )
            assert diff == []
        downgrade(url)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version", "spatial_ref_sys"}
        upgrade(url)
        engine.dispose()
    finally:
        drop_database(server_url, url)


def test_audit_log_is_append_only(session, clock):
    import pytest
    from sqlalchemy.exc import DBAPIError

    from audit.service import record

    record(session, clock, None, "test", "thing", "1")
    session.flush()
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("UPDATE audit_log SET action = 'forged'"))
