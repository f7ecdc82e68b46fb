"""Engine and session factory. Sessions never autocommit: exactly one place commits
(the request unit of work in api/, a job's own ``with session.begin()``, the sync push)."""

from __future__ import annotations

from psycopg2.errorcodes import UNIQUE_VIOLATION
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str, *, pool_size: int = 5) -> Engine:
    # pool_pre_ping: a restarted database must not turn the next request into a 500.
    return create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5, "options": "-c timezone=UTC"},
    )


def make_session_factory(bind) -> sessionmaker[Session]:
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True)


def is_unique_violation(err: IntegrityError) -> bool:
    """A unique constraint refused the write: another transaction wrote the same key first."""
    return getattr(err.orig, "pgcode", None) == UNIQUE_VIOLATION
