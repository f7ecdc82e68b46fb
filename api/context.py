"""Per-request access to the database session, the clock, the settings and the caller.

Only the HTTP layer imports this; domain functions receive these as arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from sqlalchemy.orm import Session, sessionmaker

from accounts.principal import Principal
from config.settings import Settings
from core.clock import Clock


@dataclass
class Services:
    settings: Settings
    session_factory: sessionmaker
    clock: Clock
    engine: Any = None
    photo_store: Any = None
    # Sessions for read-only requests (db.session.make_read_engine); the same factory when none is set.
    read_session_factory: sessionmaker | None = None
    read_engine: Any = None

    def dispose(self) -> None:
        """Close every pooled connection (before the database is dropped or the process forks)."""
        for engine in (self.engine, self.read_engine):
            if engine is not None:
                engine.dispose()


def services() -> Services:
    return current_app.extensions["anxun"]


def db() -> Session:
    if "db_session" not in g:
        found = services()
        if reads_only():
            g.db_session = (found.read_session_factory or found.session_factory)()
            g.db_session.info["read_only"] = True
        else:
            g.db_session = found.session_factory()
    return g.db_session


def needs_transaction(view):
    """Mark a GET view that writes or needs one snapshot across its statements: it gets a read-write
    session in a transaction like a POST does."""
    view.needs_transaction = True
    return view


def reads_only() -> bool:
    """GET and HEAD are served from read-only autocommit connections unless the view is marked
    ``needs_transaction``."""
    if request.method not in ("GET", "HEAD"):
        return False
    view = current_app.view_functions.get(request.endpoint)
    # A MethodView's mark is on its method (HEAD falls back to GET as Flask does).
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None) or getattr(view_class, "get", None)
    return not getattr(view, "needs_transaction", False)


def clock() -> Clock:
    return services().clock


def settings() -> Settings:
    return services().settings


def principal() -> Principal:
    return g.principal
