"""GeoJSON (RFC 7946) in the OpenAPI document: the geometry, Feature and FeatureCollection schemas,
and the field every body uses where geometry travels, so a generated client types it."""

from __future__ import annotations

from marshmallow import fields

GEOMETRY_TYPES = ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _typed(type_name: str, coordinates: dict) -> dict:
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {"type": {"type": "string", "enum": [type_name]}, "coordinates": coordinates},
    }


def _array(items: dict, min_items: int | None = None) -> dict:
    return {"type": "array", "items": items} | ({"minItems": min_items} if min_items else {})


_POSITION = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 2,
    "maxItems": 3,
    "description": "[经度, 纬度]，WGS-84",
}
_LINE = _array(_POSITION, 2)
_RING = _array(_POSITION, 4)

# Component schemas, by name (registered by api/openapi.py).
COMPONENTS: dict[str, dict] = {
    "Point": _typed("Point", _POSITION),
    "LineString": _typed("LineString", _LINE),
    "MultiLineString": _typed("MultiLineString", _array(_LINE)),
    "Polygon": _typed("Polygon", _array(_RING, 1)),
    "MultiPolygon": _typed("MultiPolygon", _array(_array(_RING, 1))),
    "Geometry": {
        "oneOf": [_ref(t) for t in GEOMETRY_TYPES],
        "discriminator": {"propertyName": "type", "mapping": {t: f"#/components/schemas/{t}" for t in GEOMETRY_TYPES}},
    },
    "Feature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"allOf": [_ref("Geometry")], "nullable": True},
            "properties": {"type": "object", "nullable": True, "additionalProperties": True},
        },
    },
    "FeatureCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]}, "features": _array(_ref("Feature"))},
    },
}


class GeoJSON(fields.Raw):
    """A GeoJSON object (its structure is checked where it is used: the geometry services)."""

    default_error_messages = {"invalid": "应为 GeoJSON 对象"}

    def __init__(self, *types: str, **kwargs):
        metadata = kwargs.pop("metadata", {})
        refs = [_ref(t) for t in types]
        super().__init__(metadata=metadata | ({"oneOf": refs} if len(refs) > 1 else {"allOf": refs}), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        return value
