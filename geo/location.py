"""A point as the API takes and gives it: longitude and latitude on the globe, in the crs a phone
sends (WGS-84, GCJ-02 or BD-09, converted to WGS-84 on load, SYNC_PROTOCOL.md §5), and as the
PostGIS point stored for it. The one place a location is validated (README, "What the API accepts")."""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from marshmallow import Schema, ValidationError, fields, post_load, validate
from shapely.geometry import Point

from geo.coords import to_wgs84

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


class LocationIn(Schema):
    """A point as phones send it (SYNC_PROTOCOL.md §5); converted to WGS-84 on load."""

    lon = fields.Float(required=True, validate=LONGITUDE)
    lat = fields.Float(required=True, validate=LATITUDE)
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))

    @post_load
    def to_wgs84(self, data, **kwargs):
        try:
            lon, lat = to_wgs84(data["lon"], data["lat"], data["crs"])
        except Exception as err:  # conversion refuses only impossible input
            raise ValidationError(str(err), "crs") from err
        return {
            "lon": lon,
            "lat": lat,
            "accuracy_m": data["accuracy_m"],
            "given": {"lon": data["lon"], "lat": data["lat"], "crs": data["crs"]},
        }


class LocationOut(Schema):
    lon = fields.Float()
    lat = fields.Float()


def point_geometry(location: dict | None):
    """The stored SRID-4326 point of a loaded ``LocationIn`` (None for none)."""
    if not location:
        return None
    return from_shape(Point(location["lon"], location["lat"]), srid=4326)
