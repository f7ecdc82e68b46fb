"""Who may see a photo, and what it is checked against: the photo-owner registry.

A photo belongs to no record; records *name* photos (``photo_refs``). Each package whose records
name photos declares them as ``PHOTO_OWNERS`` (a tuple of ``PhotoOwner``), and ``create_app``
registers them all, explicitly (api.app: ``_register_extensions``):

    PHOTO_OWNERS = (PhotoOwner("hazard", visible_ids=lambda principal: select(Hazard.id).where(...),
                               context=hazard_photo_context),)

``visible_ids(principal)`` is a SELECT of the ids of that entity the caller may see
(built from the Principal's scope conditions, so the database filters); ``context(session,
entity_id)`` says where and when the record happened, for the geotag check.

A photo is visible to its uploader and to whoever may see at least one record naming it
through a vouched reference (``PhotoRef.vouched``: its namer could see the photo, or uploaded
it, or proved its bytes — knowing a photo's hash grants nothing); the check is one SQL query
(``photo_visible``). Photos named only by entities nobody registered are visible to their
uploader alone.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from accounts.principal import Principal
from evidence.models import Photo, PhotoRef


@dataclass(frozen=True)
class PhotoContext:
    """Where and when the record naming a photo happened. Any part may be unknown (None).

    ``location`` and ``enterprise_location`` (where the record's enterprise is registered) are
    (lon, lat) WGS-84; ``window`` is (start, end), aware datetimes, either end open (None)."""

    location: tuple[float, float] | None = None
    enterprise_id: uuid.UUID | None = None
    enterprise_location: tuple[float, float] | None = None
    window: tuple[datetime | None, datetime | None] | None = None


VisibleIds = Callable[[Principal], Select]
ContextOf = Callable[[Session, uuid.UUID], "PhotoContext | None"]


@dataclass(frozen=True)
class PhotoOwner:
    entity: str
    visible_ids: VisibleIds
    context: ContextOf


_OWNERS: dict[str, PhotoOwner] = {}
# Bumped by every registration: statements cached per principal are then built afresh.
_generation = 0


def register_photo_owner(entity: str, visible_ids: VisibleIds, context: ContextOf) -> None:
    """Declare that records of ``entity`` name photos. Registering an entity again
    replaces it (module reloads, tests).

    ``visible_ids`` must depend on the principal alone (the statements built from it are
    cached per principal): anything time-dependent belongs in SQL (``now()``), not in a
    value computed in Python."""
    global _generation
    _OWNERS[entity] = PhotoOwner(entity, visible_ids, context)
    _generation += 1


def registry_generation() -> tuple[int, int]:
    return _generation, id(_OWNERS)  # a registry swapped wholesale (tests) counts as a change


def photo_owners() -> dict[str, PhotoOwner]:
    """A copy of the registry."""
    return dict(_OWNERS)


def photo_owner(entity: str) -> PhotoOwner | None:
    return _OWNERS.get(entity)


def visible_ref_filter(principal: Principal, ref=PhotoRef) -> ColumnElement[bool]:
    """photo_refs rows whose record the caller may see (the union over registered entities).

    A correlated EXISTS rather than ``entity_id IN (visible ids)``: under an OR, PostgreSQL
    hashes every id the caller may see (all hazards of a county) for each check; the EXISTS
    is flattened into a primary-key probe per reference."""
    parts = []
    for owner in _OWNERS.values():
        visible = owner.visible_ids(principal).subquery()
        parts.append(and_(ref.entity == owner.entity, exists().where(visible.c[0] == ref.entity_id)))
    return or_(*parts) if parts else false()


@functools.cache
def _ref_alias():
    # An alias of its own, so the EXISTS never correlates with a photo_refs the outer query
    # joins. Made once, lazily: aliasing configures the mappers, which must all be imported.
    return aliased(PhotoRef, name="visible_ref")


def photo_visible(principal: Principal, photo=Photo) -> ColumnElement[bool]:
    """The condition on a ``photos`` row: uploaded by the caller, or named by a record they see
    through a vouched reference."""
    ref = _ref_alias()
    return or_(
        photo.uploaded_by == principal.user_id,
        exists().where(ref.sha256 == photo.sha256, ref.vouched, visible_ref_filter(principal, ref)),
    )


def per_principal(build: Callable[[Principal], Select]) -> Callable[[Principal], Select]:
    """Cache a statement built from a principal's scope, with the photo as ``:sha`` bind
    parameter. Building the scope conditions and their SQL cache key costs several
    milliseconds of Python per call, the query itself about one; a cached statement object
    keeps its cache key, so a repeat costs neither. About 60 KiB per statement: keeping the
    128 most recent callers per statement bounds the three photo statements to ~22 MiB per
    worker."""
    cached = functools.lru_cache(maxsize=128)(lambda principal, generation: build(principal))

    def statement(principal: Principal) -> Select:
        return cached(principal, registry_generation())

    return statement


SHA = bindparam("sha", type_=String)


@per_principal
def _may_see(principal: Principal) -> Select:
    return select(func.count()).select_from(Photo).where(Photo.sha256 == SHA, photo_visible(principal))


@per_principal
def _visible_refs(principal: Principal) -> Select:
    return (
        select(PhotoRef.entity, PhotoRef.entity_id)
        .where(PhotoRef.sha256 == SHA, visible_ref_filter(principal))
        .order_by(PhotoRef.named_at, PhotoRef.entity, PhotoRef.entity_id)
    )


def may_see_photo(session: Session, principal: Principal, sha: str) -> bool:
    return bool(session.scalar(_may_see(principal), {"sha": sha}))


def visible_refs(session: Session, principal: Principal, sha: str) -> list[tuple[str, uuid.UUID]]:
    """(entity, entity_id) of the records naming ``sha`` that the caller may see."""
    return [(entity, entity_id) for entity, entity_id in session.execute(_visible_refs(principal), {"sha": sha})]
