"""Engine and session factory. Sessions never autocommit: exactly one place commits
(the request unit of work in api/, a job's own ``with session.begin()``, the sync push)."""

from __future__ import annotations

from psycopg2.errorcodes import UNIQUE_VIOLATION
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker


# Every connection of the app: times in UTC; no JIT. PostgreSQL compiles a statement whose estimated cost
# passes jit_above_cost, and the push's photo-naming statement (evidence.service) passed it once photo_refs
# had grown: ≈ 290 ms of compiling to run 2 ms, every batch. The app's statements are short; none repays it.
CONNECTION_OPTIONS = "-c timezone=UTC -c jit=off"


def make_engine(database_url: str, *, pool_size: int = 5) -> Engine:
    # pool_pre_ping: a restarted database must not turn the next request into a 500.
    return create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5, "options": CONNECTION_OPTIONS},
    )


def make_read_engine(database_url: str, *, pool_size: int = 5) -> Engine:
    """Connections for requests that only read (api.context): autocommit, so a read costs its own
    statements and no BEGIN/COMMIT round trips, and read-only at the server, so a write through one
    fails instead of being committed by accident. No pre-ping: a read that meets a connection the
    database dropped is run again on a fresh one (api.app), which costs one failure per restart
    instead of a ``SELECT 1`` per request."""
    return create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5, "options": f"{CONNECTION_OPTIONS} -c default_transaction_read_only=on"},
    )


class WriteInReadSession(RuntimeError):
    """A request served as read-only tried to write: the view must be marked ``needs_transaction``."""


def refuse_writes_in_read_sessions(factory: sessionmaker) -> None:
    """Sessions of ``factory`` marked ``info["read_only"]`` refuse ORM writes and DML statements, so a
    read-only request that writes fails the same way in tests (which share one transactional
    connection for reads and writes) as on a read-only connection."""
    if event.contains(factory, "do_orm_execute", _refuse_dml):
        return
    event.listen(factory, "do_orm_execute", _refuse_dml)
    event.listen(factory, "before_flush", _refuse_flush)


def _refuse_dml(state: ORMExecuteState) -> None:
    if state.session.info.get("read_only") and (state.is_insert or state.is_update or state.is_delete):
        raise WriteInReadSession(f"a read-only request wrote: {state.statement}")


def _refuse_flush(session: Session, flush_context, instances) -> None:
    if session.info.get("read_only") and (session.new or session.dirty or session.deleted):
        raise WriteInReadSession("a read-only request changed records")


def make_session_factory(bind) -> sessionmaker[Session]:
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True)


def is_unique_violation(err: IntegrityError) -> bool:
    """A unique constraint refused the write: another transaction wrote the same key first."""
    return getattr(err.orig, "pgcode", None) == UNIQUE_VIOLATION
