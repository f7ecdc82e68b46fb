"""Schemas shared by every resource: pagination query and envelope, locations with their CRS, unions."""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, post_load, validate


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageOut(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class LocationIn(Schema):
    """A point as phones send it (SYNC_PROTOCOL.md §5); converted to WGS-84 on load."""

    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))

    @post_load
    def to_wgs84(self, data, **kwargs):
        from geo.coords import to_wgs84

        try:
            lon, lat = to_wgs84(data["lon"], data["lat"], data["crs"])
        except Exception as err:  # conversion refuses only impossible input
            raise ValidationError(str(err), "crs") from err
        return {"lon": lon, "lat": lat, "accuracy_m": data["accuracy_m"],
                "given": {"lon": data["lon"], "lat": data["lat"], "crs": data["crs"]}}


class LocationOut(Schema):
    lon = fields.Float()
    lat = fields.Float()


@dataclass(frozen=True)
class Union:
    """A discriminated union for the OpenAPI document (``oneOf`` + ``discriminator``): ``mapping`` from
    each value of ``property`` to a schema or a nested union. A named union becomes a component."""

    property: str | None
    mapping: dict
    name: str | None = None


def union_field(union: Union, **kwargs) -> fields.Raw:
    """A field documented as ``union`` and loaded raw: its parts are validated one by one where it is used."""
    return fields.Raw(metadata=kwargs.pop("metadata", {}) | {"union": union}, **kwargs)
