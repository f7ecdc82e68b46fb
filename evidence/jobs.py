"""Scheduled photo housekeeping; each job owns its transaction (the jobs package schedules them)."""
from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from evidence.service import remove_orphan_photos
from evidence.storage import PhotoStore


def remove_orphan_photos_job(session_factory: sessionmaker[Session], clock: Clock, store: PhotoStore,
                             older_than_days: int) -> int:
    """Photos no record has named within ``older_than_days`` (Settings.orphan_photo_days)."""
    with session_factory.begin() as session:
        return remove_orphan_photos(session, clock, store, older_than_days)


def purge_partial_uploads_job(store: PhotoStore, older_than_seconds: float = 7 * 24 * 3600) -> int:
    """Parts of resumable uploads nobody continued, and staging files a crash left behind."""
    return store.purge_partials(older_than_seconds)
