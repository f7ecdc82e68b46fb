"""Alembic environment: the URL comes from the caller (``db.migrate``) or DATABASE_URL; the metadata from
every package's models (the registry below: a package with tables adds its line)."""

import importlib
import os

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from db.base import Base

MODEL_MODULES = (
    "accounts.models",
    "audit.models",
    "cases.models",
    "checklists.models",
    "documents.models",
    "enterprises.models",
    "evidence.models",
    "geo.models",
    "inspections.models",
    "jobs.models",
    "public_reports.models",
    "reports.models",
    "sync.models",
)
for _module in MODEL_MODULES:
    importlib.import_module(_module)
metadata = Base.metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
    engine = create_engine(url)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=alembic_helpers.include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
