"""What every record a phone creates shares: where it came from (device, the phone's clock and its
skew), the content hash that tells a re-sent create from a reused id, and points from locations."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta


from core.errors import Conflict


@dataclass(frozen=True)
class Provenance:
    """How a write reached the server. REST calls have no phone clock; sync changes do."""

    device_id: str | None = None
    recorded_at: datetime | None = None
    skew_seconds: float | None = None
    # Hash of a pushed hazard transition: lets a re-sent one be recognised as the same (None otherwise).
    change_hash: str | None = None

    @property
    def recorded_at_corrected(self) -> datetime | None:
        """The phone's time put on the server's clock (recorded_at + skew)."""
        if self.recorded_at is None:
            return None
        return self.recorded_at + timedelta(seconds=self.skew_seconds or 0)


@dataclass
class Recorded:
    """The outcome of a create: the record, whether it is new, what it derived, photos still missing."""

    record: object
    created: bool
    derived: list[dict] = field(default_factory=list)
    missing_photos: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Inserted:
    """A record a batch inserted in one statement with others (no ORM object): what its answer needs."""

    id: uuid.UUID
    version: int = 1


class IdReused(Conflict):
    status = 409
    code = "sync.id_reused"
    title = "记录编号已被不同内容使用"


def canonical_hash(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_not_reused(existing, digest: str, what: str, *, author: uuid.UUID, caller: uuid.UUID) -> None:
    """An existing record with the same id: the same content from the user who recorded it is a harmless
    re-send; other content, or the same content from anyone else, is refused (the id is taken — a
    `duplicate` would tell another user their change is stored when it is not theirs)."""
    if existing.content_hash != digest or author != caller:
        raise IdReused(f"{what}编号 {existing.id} 已用于另一条记录；更正请新建记录并以 supersedes 指向原记录")


def hazard_id_for(inspection_id: uuid.UUID, item_code: str) -> uuid.UUID:
    """Hazards raised by an inspection's failed items: the phone and the server name them alike."""
    return uuid.uuid5(inspection_id, item_code)
