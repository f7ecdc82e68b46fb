"""Bodies of the region and grid endpoints (GeoJSON in and out)."""
from marshmallow import Schema, fields, validate

from core.schemas import PageOut, PageQuery


class RegionChildOut(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class RegionOut(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    path = fields.String()
    parent_code = fields.String(allow_none=True)
    area_m2 = fields.Float(allow_none=True)
    geometry = fields.Dict(allow_none=True, metadata={"description": "GeoJSON MultiPolygon, WGS-84"})
    children = fields.List(fields.Nested(RegionChildOut))


class GridQuery(PageQuery):
    region = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{12}$"),
                           metadata={"description": "12 位区划代码：该区划（含下级）内的网格"})
    worker_id = fields.UUID(load_default=None)


class GridFeatureOut(Schema):
    """A GeoJSON Feature; ``properties`` holds name, region_code, villages, workers, version."""

    type = fields.String()
    id = fields.String()
    geometry = fields.Dict()
    properties = fields.Dict()


class GridCollectionOut(PageOut):
    type = fields.String()
    features = fields.List(fields.Nested(GridFeatureOut))
