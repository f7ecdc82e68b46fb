"""The records of this package that name photos, for evidence's photo-owner registry (``PHOTO_OWNERS``):
who may see them (the same scope conditions as the records) and where and when they happened,
for the geotag check of each photo."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.principal import Principal
from enterprises.models import Enterprise
from evidence.access import PhotoContext, PhotoOwner
from inspections.hazards import hazard_filter
from inspections.models import Hazard, HazardEvent, Inspection, Patrol
from inspections.service import inspection_filter, patrol_filter


_ENTERPRISE_AT = (func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location))


def _at(lon: float | None, lat: float | None) -> tuple[float, float] | None:
    return (lon, lat) if lon is not None else None


def _visible_inspections(principal: Principal):
    return select(Inspection.id).where(inspection_filter(principal))


def _inspection_context(session: Session, inspection_id: uuid.UUID) -> PhotoContext | None:
    row = session.execute(
        select(
            func.ST_X(Inspection.location),
            func.ST_Y(Inspection.location),
            Inspection.enterprise_id,
            *_ENTERPRISE_AT,
            Inspection.started_at,
            Inspection.finished_at,
        )
        .outerjoin(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .where(Inspection.id == inspection_id)
    ).one_or_none()
    if row is None:
        return None
    lon, lat, enterprise_id, enterprise_lon, enterprise_lat, started, finished = row
    return PhotoContext(
        location=_at(lon, lat),
        enterprise_id=enterprise_id,
        enterprise_location=_at(enterprise_lon, enterprise_lat),
        window=(started, finished),
    )


def _visible_hazards(principal: Principal):
    return select(Hazard.id).where(hazard_filter(principal))


def _hazard_context(session: Session, hazard_id: uuid.UUID) -> PhotoContext | None:
    """A hazard's photos span its life: from when it was found to its latest step."""
    row = session.execute(
        select(
            func.ST_X(Hazard.location),
            func.ST_Y(Hazard.location),
            Hazard.enterprise_id,
            *_ENTERPRISE_AT,
            Hazard.found_at,
            func.max(HazardEvent.at),
        )
        .outerjoin(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .outerjoin(HazardEvent, HazardEvent.hazard_id == Hazard.id)
        .where(Hazard.id == hazard_id)
        .group_by(Hazard.id, Enterprise.id)
    ).one_or_none()
    if row is None:
        return None
    lon, lat, enterprise_id, enterprise_lon, enterprise_lat, found, last = row
    return PhotoContext(
        location=_at(lon, lat),
        enterprise_id=enterprise_id,
        enterprise_location=_at(enterprise_lon, enterprise_lat),
        window=(found, last),
    )


def _visible_patrols(principal: Principal):
    return select(Patrol.id).where(patrol_filter(principal))


def _patrol_context(session: Session, patrol_id: uuid.UUID) -> PhotoContext | None:
    row = session.execute(select(Patrol.started_at, Patrol.ended_at).where(Patrol.id == patrol_id)).one_or_none()
    return PhotoContext(window=(row[0], row[1])) if row else None


PHOTO_OWNERS = (
    PhotoOwner("inspection", _visible_inspections, _inspection_context),
    PhotoOwner("hazard", _visible_hazards, _hazard_context),
    PhotoOwner("patrol", _visible_patrols, _patrol_context),
)
