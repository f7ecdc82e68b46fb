"""Per-request access to the database session, the clock, the settings and the caller.

Only the HTTP layer imports this; domain functions receive these as arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g
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


def services() -> Services:
    return current_app.extensions["anxun"]


def db() -> Session:
    if "db_session" not in g:
        g.db_session = services().session_factory()
    return g.db_session


def clock() -> Clock:
    return services().clock


def settings() -> Settings:
    return services().settings


def principal() -> Principal:
    return g.principal
