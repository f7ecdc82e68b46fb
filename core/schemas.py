"""Schemas shared by every resource: pagination query and envelope, locations with their CRS, the
accepted coordinates (README, "What the API accepts"), field errors, and unions for the document."""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, post_load, validate

# Pages past this are refused rather than sent to PostgreSQL as an OFFSET beyond bigint: a million
# pages of 500 is far past any ledger.
MAX_PAGE = 1_000_000

# Every point and vertex the API is sent, whatever its crs, is a longitude and latitude on the
# globe. Points (check-ins, hazards, tracks) are evidence of where a phone was, so they are not
# refused for lying outside China; boundaries and grids are (geo.geometry: geo.outside_china).
LONGITUDE = validate.Range(min=-180, max=180)
LATITUDE = validate.Range(min=-90, max=90)


def on_the_globe(lon: float, lat: float) -> bool:
    return LONGITUDE.min <= lon <= LONGITUDE.max and LATITUDE.min <= lat <= LATITUDE.max


def position_field(**kwargs) -> fields.Tuple:
    """``[lon, lat]``, as GeoJSON orders them."""
    return fields.Tuple((fields.Float(validate=LONGITUDE), fields.Float(validate=LATITUDE)), **kwargs)


class FieldErrorOut(Schema):
    """One field's error, in a problem+json ``errors`` and in a rejected push result."""

    code = fields.String()
    field = fields.String(allow_none=True, metadata={"description": "出错字段的点分路径，如 answers.3.item、data.grid_id"})
    message = fields.String()


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageOut(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class LocationIn(Schema):
    """A point as phones send it (SYNC_PROTOCOL.md §5); converted to WGS-84 on load."""

    lon = fields.Float(required=True, validate=LONGITUDE)
    lat = fields.Float(required=True, validate=LATITUDE)
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


class Money(fields.Decimal):
    """An amount in 元 with two places, a string on the wire ("200.00") so no float rounds a fine; the
    document says so (a plain Decimal field would be documented as a number)."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$", "example": "200.00"}
        super().__init__(places=2, as_string=True, metadata=metadata | kwargs.pop("metadata", {}), **kwargs)


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
