"""Geofence (电子围栏): how far a check-in or a photo is from an enterprise, in metres on the spheroid
(PostGIS geography ``ST_Distance``), against a threshold (``Settings.geofence_meters`` by default,
passed in by the caller: domain code does not read settings)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from enterprises.models import Enterprise
from geo.coords import to_wgs84


def check(
    session: Session, enterprise_id: uuid.UUID, lon: float, lat: float, threshold_m: float, *, crs: str = "wgs84"
) -> dict:
    """``{"distance_m", "within", "threshold_m"}``; within means distance ≤ threshold. ``lon``/``lat``
    are WGS-84 unless ``crs`` says GCJ-02 or BD-09. An unknown enterprise is 404."""
    if crs != "wgs84":
        lon, lat = to_wgs84(lon, lat, crs)
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    distance = session.scalar(
        select(func.ST_Distance(func.Geography(Enterprise.location), func.Geography(point))).where(
            Enterprise.id == enterprise_id
        )
    )
    if distance is None:
        raise NotFound("企业不存在")
    return {"distance_m": distance, "within": distance <= threshold_m, "threshold_m": threshold_m}
