"""A point as the API takes and gives it: longitude and latitude on the globe, in the crs a phone
sends (WGS-84, GCJ-02 or BD-09, converted to WGS-84 on load, SYNC_PROTOCOL.md §5), and as the
PostGIS point stored for it. The one place a location is validated (README, "What the API accepts")."""

from __future__ import annotations

import numpy as np
from geoalchemy2.shape import from_shape
from marshmallow import Schema, ValidationError, fields, post_load, validate
from shapely.geometry import LineString, Point

from geo.coords import to_wgs84, to_wgs84_many

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


def _plain_degrees(value) -> bool:
    # What fields.Float takes without a question: a JSON number (bool is an int to Python, not to
    # Float), finite (a NaN or an infinity fails the range test below as it fails Float).
    return type(value) is float or type(value) is int


def _plainly_valid_positions(value: list) -> list[tuple[float, float]] | None:
    """``List(position_field())`` loading ``value``, when every position is a plainly valid
    ``[lon, lat]``; None whenever anything might be refused, so that marshmallow says why."""
    west, east, south, north = LONGITUDE.min, LONGITUDE.max, LATITUDE.min, LATITUDE.max
    positions = []
    try:
        for position in value:
            if type(position) is not list or len(position) != 2:
                return None
            lon, lat = position
            if not (_plain_degrees(lon) and _plain_degrees(lat) and west <= lon <= east and south <= lat <= north):
                return None
            positions.append((float(lon), float(lat)))
    except Exception:  # anything odd is marshmallow's to judge
        return None
    return positions


class PositionList(fields.List):
    """``List(position_field())`` — so documented — that loads a list of plainly valid positions in
    plain Python (a patrol track is hundreds of them, each a Tuple of two ranged Floats to
    marshmallow) and hands any other list to marshmallow, which then gives exactly its errors."""

    def __init__(self, **kwargs):
        super().__init__(position_field(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list:
            positions = _plainly_valid_positions(value)
            if positions is not None:
                return positions
        return super()._deserialize(value, attr, data, **kwargs)


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


# Stored geometries are bound as EWKB (extended=True), which GeoAlchemy2 sends as hex for PostGIS to read
# as it is; plain WKB it first turned back into a shape and then into EWKT text (a printf per coordinate,
# for hundreds of track points a patrol), which PostGIS then parsed again.


def point_geometry(location: dict | None):
    """The stored SRID-4326 point of a loaded ``LocationIn`` (None for none)."""
    if not location:
        return None
    return from_shape(Point(location["lon"], location["lat"]), srid=4326, extended=True)


# Tracks are converted together up to this many points a call: a 120-point track alone pays mostly
# numpy's fixed price a call (0.35 ms against 0.1 ms together), and the bound keeps the arrays small
# (an 8 MB batch can hold a million points).
POINTS_AT_ONCE = 50_000


def line_geometries(tracks: list[tuple[list, str] | None], *, points_at_once: int = POINTS_AT_ONCE) -> list:
    """The stored SRID-4326 lines through loaded tracks, each given as (``[lon, lat]`` positions, crs),
    None for none: the points of many tracks converted to WGS-84 in one call per crs (and per
    ``points_at_once``), each point exactly as :func:`~geo.coords.to_wgs84` converts it alone."""
    runs: list[tuple[str, list[int]]] = []  # (crs, indexes of the tracks converted together)
    filling: dict[str, tuple[list[int], int]] = {}  # crs → its run being filled and the points in it
    for n, track in enumerate(tracks):
        if track is None:
            continue
        positions, crs = track
        run, points = filling.get(crs, (None, 0))
        if run is None or points + len(positions) > points_at_once:
            run, points = [], 0
            runs.append((crs, run))
        run.append(n)
        filling[crs] = (run, points + len(positions))
    lines = [None] * len(tracks)
    for crs, run in runs:
        given = np.array([p for n in run for p in tracks[n][0]], dtype=np.float64).reshape(-1, 2)
        lons, lats = to_wgs84_many(given[:, 0], given[:, 1], crs)
        converted = np.column_stack((lons, lats))
        start = 0
        for n in run:
            end = start + len(tracks[n][0])
            lines[n] = from_shape(LineString(converted[start:end]), srid=4326, extended=True)
            start = end
    return lines
