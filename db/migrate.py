"""Running the Alembic migrations from code (CLI, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str | None = None, connection=None) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    if database_url:
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(database_url: str | None = None, *, connection=None, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url, connection), revision)


def downgrade(database_url: str | None = None, *, connection=None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url, connection), revision)
