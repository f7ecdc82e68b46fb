"""Coordinate systems used by Chinese map SDKs, converted to and from WGS-84.

Phones report WGS-84 (GPS, EXIF), GCJ-02 (国测局坐标 / “火星坐标”: AMap, Tencent) or BD-09
(百度坐标: Baidu). The server stores WGS-84 (SYNC_PROTOCOL.md §5), converts on the way in,
and converts back only for exports to Chinese map SDKs.

The GCJ-02 formula is the reverse-engineered open one used by eviltransform / coordtransform
(reference/REGULATIONS.md §7): Krasovsky ellipsoid a = 6378245.0, ee = 0.00669342162296594323. GCJ-02 has
no closed-form inverse, so GCJ→WGS is solved by fixed-point iteration; BD→GCJ likewise (the usual
closed-form BD→GCJ is a few centimetres off, which is then refined away). Points outside the rough
China box (:func:`in_china`) get no offset at all.

All functions take and return (lon, lat) in degrees — longitude first, as in GeoJSON. One point is
converted with ``math``; many (a patrol track) with :func:`to_wgs84_many`, the same formulas on numpy
arrays, which gives each point exactly what :func:`to_wgs84` gives it.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from core.errors import FieldError, ValidationFailed

# Constants exactly as published with the algorithm (reference/REGULATIONS.md §7); changing them moves points.
_PI = 3.1415926535897932384626
_X_PI = _PI * 3000.0 / 180.0
_A = 6378245.0  # Krasovsky 1940 semi-major axis, m
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared

# Iteration stop: 1e-10 deg is about 1 cm; the maps converge far below this in 3–5 steps.
_TOLERANCE_DEG = 1e-10
_MAX_ITERATIONS = 30

CRS_VALUES = ("wgs84", "gcj02", "bd09")

# IUGG mean Earth radius, m (for haversine).
EARTH_RADIUS_M = 6371008.8


# The box of in_china: west, east, south, north (inclusive).
_CHINA_BOX = (72.004, 137.8347, 0.8293, 55.8271)


def in_china(lon: float, lat: float) -> bool:
    """Rough China test that decides whether the GCJ-02/BD-09 offset applies.

    It is the bounding box of eviltransform (reference/REGULATIONS.md §7):
    72.004 ≤ lon ≤ 137.8347 and 0.8293 ≤ lat ≤ 55.8271. It is a box, not the border: it also
    covers e.g. Seoul, Hanoi and Ulaanbaatar. It matches what Chinese map SDKs do closely enough
    for points inside China, which is all this project records.
    """
    west, east, south, north = _CHINA_BOX
    return west <= lon <= east and south <= lat <= north


def _in_china_many(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    west, east, south, north = _CHINA_BOX
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _atan2_as_libm(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    # numpy's own (SIMD) arctan2 differs from the C library's math.atan2 by an ulp for ~8 % of
    # arguments; atan2 comes once per BD-09 step, so calling libm's keeps BD-09 points identical too.
    return np.fromiter(map(math.atan2, y.tolist(), x.tolist()), dtype=np.float64, count=y.size)


# The formulas below are written once and evaluated either on floats (``math``, the default) or
# elementwise on arrays (this). numpy's sin, cos and sqrt are the C library's here, so both give the
# same bits; tests/geo/test_coords_many.py holds them to it.
_ARRAYS = SimpleNamespace(sin=np.sin, cos=np.cos, sqrt=np.sqrt, atan2=_atan2_as_libm)


def _transform_lat(x, y, m=math):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(abs(x))
    ret += (20.0 * m.sin(6.0 * x * _PI) + 20.0 * m.sin(2.0 * x * _PI)) * 2.0 / 3.0
    ret += (20.0 * m.sin(y * _PI) + 40.0 * m.sin(y / 3.0 * _PI)) * 2.0 / 3.0
    ret += (160.0 * m.sin(y / 12.0 * _PI) + 320.0 * m.sin(y * _PI / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y, m=math):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(abs(x))
    ret += (20.0 * m.sin(6.0 * x * _PI) + 20.0 * m.sin(2.0 * x * _PI)) * 2.0 / 3.0
    ret += (20.0 * m.sin(x * _PI) + 40.0 * m.sin(x / 3.0 * _PI)) * 2.0 / 3.0
    ret += (150.0 * m.sin(x / 12.0 * _PI) + 300.0 * m.sin(x / 30.0 * _PI)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon, lat, m=math):
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (no China test)."""
    d_lat = _transform_lat(lon - 105.0, lat - 35.0, m)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0, m)
    rad_lat = lat / 180.0 * _PI
    sin_lat = m.sin(rad_lat)
    # sin² as a product, as eviltransform writes it: ``** 2`` on a float is the C library's pow(),
    # which rounds x² differently from x·x about once in a thousand, and numpy squares by x·x.
    magic = 1.0 - _EE * (sin_lat * sin_lat)
    sqrt_magic = m.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * _PI)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * m.cos(rad_lat) * _PI)
    return d_lon, d_lat


def _wgs_to_gcj_raw(lon, lat, m=math):
    d_lon, d_lat = _gcj_offset(lon, lat, m)
    return lon + d_lon, lat + d_lat


def _gcj_to_bd_raw(lon, lat, m=math):
    z = m.sqrt(lon * lon + lat * lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.atan2(lat, lon) + 0.000003 * m.cos(lon * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def _bd_to_gcj_closed_form(lon, lat, m=math):
    """The usual closed-form BD-09 → GCJ-02, a few centimetres off: the start of the refinement."""
    x, y = lon - 0.0065, lat - 0.006
    z = m.sqrt(x * x + y * y) - 0.00002 * m.sin(y * _X_PI)
    theta = m.atan2(y, x) - 0.000003 * m.cos(x * _X_PI)
    return z * m.cos(theta), z * m.sin(theta)


def _invert(forward, target_lon: float, target_lat: float, start_lon: float, start_lat: float) -> tuple[float, float]:
    """Solve forward(p) = target by fixed-point iteration p ← p + (target − forward(p)).

    Both forward maps are the identity plus a small, slowly varying offset (Jacobian within
    ~1e-3 of the identity), so every step shrinks the error by about a thousand times.
    """
    lon, lat = start_lon, start_lat
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(lon, lat)
        e_lon, e_lat = target_lon - f_lon, target_lat - f_lat
        lon += e_lon
        lat += e_lat
        if abs(e_lon) < _TOLERANCE_DEG and abs(e_lat) < _TOLERANCE_DEG:
            break
    return lon, lat


def _invert_many(forward, target_lon: np.ndarray, target_lat: np.ndarray, lon: np.ndarray, lat: np.ndarray):
    """:func:`_invert` on arrays (``lon``, ``lat`` are the starts, updated in place). Each point stops
    on its own step, as it would alone, so each takes exactly the scalar's steps and ends where it does."""
    going = np.arange(lon.size)
    for _ in range(_MAX_ITERATIONS):
        if going.size == 0:
            break
        f_lon, f_lat = forward(lon[going], lat[going], _ARRAYS)
        e_lon, e_lat = target_lon[going] - f_lon, target_lat[going] - f_lat
        lon[going] += e_lon
        lat[going] += e_lat
        # The scalar's test, negated as it is written there (a NaN step keeps going in both).
        going = going[~((np.abs(e_lon) < _TOLERANCE_DEG) & (np.abs(e_lat) < _TOLERANCE_DEG))]
    return lon, lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 (国测局坐标). Unchanged outside :func:`in_china`."""
    if not in_china(lon, lat):
        return lon, lat
    return _wgs_to_gcj_raw(lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84, iterated until the forward map reproduces the input to ~1e-10°.

    The one-step inverse most libraries use (subtract the offset taken at the GCJ point) is
    1–2 m off; this converges to millimetres and below. Unchanged outside :func:`in_china`.
    """
    if not in_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _gcj_offset(lon, lat)
    # The China test is made once, on the input; the iteration uses the raw formula so that a
    # point near the box edge does not flip between "offset" and "no offset" mid-solve.
    return _invert(_wgs_to_gcj_raw, lon, lat, lon - d_lon, lat - d_lat)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → BD-09 (百度坐标). Pure formula, applied everywhere (see :func:`from_wgs84`)."""
    return _gcj_to_bd_raw(lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 → GCJ-02: the usual closed form, then refined by iteration to an exact inverse.

    The closed form evaluates the small sin/cos terms at the BD point instead of the GCJ one,
    which leaves a few centimetres; the refinement removes it.
    """
    return _invert(_gcj_to_bd_raw, lon, lat, *_bd_to_gcj_closed_form(lon, lat))


def _unknown_crs(crs) -> ValidationFailed:
    message = f"未知的坐标系“{crs}”，应为 wgs84、gcj02 或 bd09"
    return ValidationFailed(message, code="geo.unknown_crs", errors=[FieldError("geo.unknown_crs", None, message)])


def _normalise_crs(crs) -> str:
    if isinstance(crs, str) and crs.strip().lower() in CRS_VALUES:
        return crs.strip().lower()
    raise _unknown_crs(crs)


def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert a point in ``crs`` ("wgs84" | "gcj02" | "bd09") to WGS-84.

    Outside :func:`in_china` nothing is offset, whatever the crs: Chinese SDKs report plain
    WGS-84 abroad. Unknown crs → ValidationFailed ``geo.unknown_crs``.
    """
    crs = _normalise_crs(crs)
    if crs == "wgs84" or not in_china(lon, lat):
        return lon, lat
    if crs == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


def to_wgs84_many(lons, lats, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`to_wgs84` for many points at once (a patrol track): new float64 arrays of WGS-84
    longitudes and latitudes. Every point is judged in or out of China as :func:`to_wgs84` judges it
    (a BD-09 point on the input, and again on its GCJ-02 step) and iterated until its own step is below
    the tolerance, so each result equals the scalar one (tests/geo/test_coords_many.py)."""
    crs = _normalise_crs(crs)
    lon = np.array(lons, dtype=np.float64)
    lat = np.array(lats, dtype=np.float64)
    if crs == "wgs84":
        return lon, lat
    inside = _in_china_many(lon, lat)
    if crs == "bd09" and inside.any():
        b_lon, b_lat = lon[inside], lat[inside]
        g_lon, g_lat = _invert_many(_gcj_to_bd_raw, b_lon, b_lat, *_bd_to_gcj_closed_form(b_lon, b_lat, _ARRAYS))
        lon[inside], lat[inside] = g_lon, g_lat
        inside &= _in_china_many(lon, lat)  # gcj02_to_wgs84 tests its own input again
    if inside.any():
        g_lon, g_lat = lon[inside], lat[inside]
        d_lon, d_lat = _gcj_offset(g_lon, g_lat, _ARRAYS)
        lon[inside], lat[inside] = _invert_many(_wgs_to_gcj_raw, g_lon, g_lat, g_lon - d_lon, g_lat - d_lat)
    return lon, lat


def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert a WGS-84 point to ``crs``, for exports to Chinese map SDKs (inverse of :func:`to_wgs84`)."""
    crs = _normalise_crs(crs)
    if crs == "wgs84" or not in_china(lon, lat):
        return lon, lat
    lon, lat = wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        lon, lat = gcj02_to_bd09(lon, lat)
    return lon, lat


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on the mean sphere; ≤0.5 % off the ellipsoid)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
