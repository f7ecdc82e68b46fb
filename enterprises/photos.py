"""The enterprise's own photos (一企一档: licence board, site photos) for evidence's photo-owner registry:
who may see them (the enterprise scope) and where the enterprise is, for the geotag check."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from accounts.principal import Principal
from enterprises.models import Enterprise
from evidence.access import PhotoContext, PhotoOwner


def _visible_enterprise_ids(principal: Principal) -> Select:
    return select(Enterprise.id).where(principal.enterprise_filter(Enterprise))


def _enterprise_context(session: Session, enterprise_id: uuid.UUID) -> PhotoContext | None:
    row = session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == enterprise_id)
    ).one_or_none()
    if row is None:
        return None
    return PhotoContext(location=(row[0], row[1]), enterprise_id=enterprise_id, enterprise_location=(row[0], row[1]))


# Photos of an enterprise itself (licence board, site photos of 一企一档): no time window.
PHOTO_OWNERS = (PhotoOwner("enterprise", _visible_enterprise_ids, _enterprise_context),)
