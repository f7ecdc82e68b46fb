"""Bodies of the region and grid endpoints (GeoJSON in and out)."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from core.geojson import GeoJSON
from core.schemas import PageOut, PageQuery
from geo.location import LocationIn
from core.times import ShownTime
from geo.coords import CRS_VALUES

CODE = validate.Regexp(r"^[0-9]{12}$", error="区划代码应为 12 位数字")
CRS_FIELD_DOC = (
    "坐标系：wgs84（默认，GPS/CGCS2000）、gcj02（高德、腾讯）、bd09（百度）；服务端按 WGS-84 保存，多边形逐点转换"
)


def _crs_field():
    return fields.String(
        load_default="wgs84", validate=validate.OneOf(CRS_VALUES), metadata={"description": CRS_FIELD_DOC}
    )


def _geometry_field(description: str, *types: str, **kwargs):
    return GeoJSON(*types, metadata={"description": description}, **kwargs)


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
    geometry = GeoJSON("MultiPolygon", allow_none=True, metadata={"description": "GeoJSON MultiPolygon, WGS-84"})
    children = fields.List(fields.Nested(RegionChildOut))


# --- boundary import ---------------------------------------------------------------------------


class RegionImportQuery(Schema):
    partial = fields.Boolean(
        load_default=False,
        metadata={
            "description": "false（默认）：任一要素被拒绝则整个文件都不导入（422，列出全部原因）；"
            "true：导入通过检查的要素，并列出被拒绝的要素"
        },
    )
    crs = _crs_field()


class FeatureCollectionIn(Schema):
    """A GeoJSON FeatureCollection of towns and villages. Each Feature: ``properties.code`` (12 位区划代码),
    ``properties.name``, optional ``properties.parent_code`` and ``properties.level``
    (``town``/``village``; both follow from the code), geometry Polygon or MultiPolygon in WGS-84
    longitude/latitude (RFC 7946; a GeoJSON 2008 ``crs`` member naming EPSG:4326, CRS84 or CGCS2000
    EPSG:4490 is accepted, any other CRS is refused). Checked per feature: code, name, parent (in the
    file or already known, within the caller's region), closed rings, coordinates in China, validity —
    repaired only when exact (自接触、毛刺、环方向), otherwise refused with the reason."""

    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True, validate=validate.Equal("FeatureCollection"))
    # Raw items: the import refuses a malformed feature by itself (geo.not_a_feature), not the whole file.
    features = fields.List(
        fields.Raw(metadata={"allOf": [{"$ref": "#/components/schemas/Feature"}]}),
        required=True,
        metadata={"description": "GeoJSON Features"},
    )
    crs = fields.Dict(load_default=None, allow_none=True, metadata={"description": "GeoJSON 2008 crs 成员（可选）"})


class RefusalOut(Schema):
    index = fields.Integer(metadata={"description": "要素在 features 中的位置（从 0 起）"})
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    reason = fields.String(metadata={"description": "稳定的原因代码，如 geo.invalid_geometry、geo.unknown_parent"})
    message = fields.String()


class RepairOut(Schema):
    code = fields.String()
    repairs = fields.List(fields.String(), metadata={"description": "made_valid（无损修复）、rewound（改正环方向）"})
    message = fields.String()


class ImportCountsOut(Schema):
    features = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    refused = fields.Integer()
    repaired = fields.Integer()


class RegionImportOut(Schema):
    written = fields.Boolean(metadata={"description": "是否新建或修改了区划（重复导入同一文件时为 false）"})
    counts = fields.Nested(ImportCountsOut)
    created = fields.List(fields.String())
    updated = fields.List(fields.String())
    unchanged = fields.List(fields.String())
    refused = fields.List(fields.Nested(RefusalOut))
    repaired = fields.List(fields.Nested(RepairOut))
    enterprises_relocated = fields.Integer(metadata={"description": "因村界变化而重新确定所在村/网格的企业数"})


# --- coverage ----------------------------------------------------------------------------------


class CoverageQuery(Schema):
    min_area_m2 = fields.Float(
        load_default=1.0,
        validate=validate.Range(min=0, max=1e9),
        metadata={"description": "只列出面积不小于此值（平方米）的空白和重叠；更小的是边界舍入产生的碎片"},
    )


class GridNamedRefOut(Schema):
    id = fields.String()
    name = fields.String()


class RegionCodeNameOut(Schema):
    code = fields.String()
    name = fields.String()


class CoverageEnterpriseOut(Schema):
    id = fields.String()
    name = fields.String()
    uscc = fields.String()


class CoverageOut(Schema):
    town = fields.Nested(RegionCodeNameOut)
    min_area_m2 = fields.Float()
    area_m2 = fields.Float(allow_none=True, metadata={"description": "乡镇面积（平方米，椭球面）"})
    covered_m2 = fields.Float(allow_none=True)
    covered_share = fields.Float(allow_none=True, metadata={"description": "网格覆盖的比例，0–1"})
    grids = fields.Integer()
    gaps = GeoJSON(
        "FeatureCollection",
        metadata={"description": "空白区：GeoJSON FeatureCollection，每块一个 Polygon，properties.area_m2"},
    )
    gap_area_m2 = fields.Float()
    overlaps = GeoJSON(
        "FeatureCollection",
        metadata={
            "description": "重叠区：GeoJSON FeatureCollection，每对网格一个要素，properties.grids（两个网格）与 area_m2"
        },
    )
    overlap_area_m2 = fields.Float()
    villages_without_grid = fields.List(fields.Nested(RegionCodeNameOut))
    grids_without_worker = fields.List(fields.Nested(GridNamedRefOut))
    enterprises_outside_grids = fields.List(
        fields.Nested(CoverageEnterpriseOut), metadata={"description": "位于乡镇内但不在任何网格内的企业"}
    )


# --- grids -------------------------------------------------------------------------------------


class GridQuery(PageQuery):
    region = fields.String(
        load_default=None, validate=CODE, metadata={"description": "12 位区划代码：该区划（含下级）内的网格"}
    )
    worker_id = fields.UUID(load_default=None)
    retired = fields.Boolean(load_default=False, metadata={"description": "是否也列出已撤销的网格"})


class GridRetireQuery(Schema):
    version = fields.Integer(load_default=None, metadata={"description": "可选的乐观锁版本号；过期则 409，附 current"})


class GridSplitIn(Schema):
    """Split a village (拆分村): cut it with ``blade`` and keep one part — the part at ``at``, or for a
    polygon blade ``keep`` = ``inside``/``outside``. The rest of the village becomes a second grid in
    the same request when ``rest_name`` is given (or later, by a second request): the two parts share
    the cut exactly."""

    village = fields.String(required=True, validate=CODE, metadata={"description": "被拆分的村/社区代码"})
    blade = _geometry_field(
        "GeoJSON LineString/MultiLineString（须穿过该村）或 Polygon/MultiPolygon",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        required=True,
    )
    at = fields.Nested(
        LocationIn,
        load_default=None,
        metadata={"description": "保留含此点的那一部分（点的 crs 缺省时与请求的 crs 相同）"},
    )
    keep = fields.String(
        load_default=None,
        validate=validate.OneOf(["inside", "outside"]),
        metadata={"description": "分割面时：保留面内（inside）或面外（outside）部分"},
    )

    @validates_schema
    def one_choice(self, data, **kwargs):
        if (data.get("at") is None) == (data.get("keep") is None):
            raise ValidationError("须且只能给出 at 或 keep 之一", "at")


class GridIn(Schema):
    """A new grid from exactly one of: ``villages`` (one code: that village; several: merged with
    ST_Union — they must belong to one town), ``split`` (part of a village), ``geometry`` (drawn:
    GeoJSON Polygon/MultiPolygon). The grid must lie within one town (``town_code``, or the town
    the villages belong to, or the town of the caller's region holding most of the drawn shape)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    town_code = fields.String(load_default=None, validate=CODE, metadata={"description": "所属乡镇代码（可省略）"})
    villages = fields.List(
        fields.String(validate=CODE),
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "村/社区代码：一个即该村，多个则合并"},
    )
    split = fields.Nested(GridSplitIn, load_default=None)
    geometry = _geometry_field("GeoJSON Polygon 或 MultiPolygon", "Polygon", "MultiPolygon", load_default=None)
    crs = _crs_field()
    rest_name = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "拆分时：该村其余部分同时建为第二个网格，以此为名（应答中的 rest）"},
    )
    replaces = fields.List(
        fields.UUID(),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "被新网格取代的网格（如合并前各村的网格）：同一请求中撤销"},
    )

    @pre_load
    def point_crs_follows_request(self, data, **kwargs):
        # A split point without its own crs is in the request's crs, like the blade.
        if isinstance(data, dict) and isinstance(data.get("split"), dict) and "crs" in data:
            at = data["split"].get("at")
            if isinstance(at, dict) and "crs" not in at:
                data = {**data, "split": {**data["split"], "at": {**at, "crs": data["crs"]}}}
        return data

    @validates_schema
    def one_source(self, data, **kwargs):
        given = [k for k in ("villages", "split", "geometry") if data.get(k) is not None]
        if len(given) != 1:
            raise ValidationError("须且只能给出 villages、split、geometry 之一", "villages")
        villages = data.get("villages") or []
        if len(set(villages)) != len(villages):
            raise ValidationError("村/社区代码重复", "villages")
        if data.get("rest_name") is not None and data.get("split") is None:
            raise ValidationError("rest_name 只用于拆分村（split）", "rest_name")
        if len(set(data["replaces"])) != len(data["replaces"]):
            raise ValidationError("网格重复", "replaces")


class GridPatch(Schema):
    version = fields.Integer(
        required=True, metadata={"description": "乐观锁：客户端看到的版本号；过期则 409，附 current"}
    )
    name = fields.String(validate=validate.Length(min=1, max=100))
    geometry = _geometry_field("新边界：GeoJSON Polygon 或 MultiPolygon，须在原乡镇之内", "Polygon", "MultiPolygon")
    crs = _crs_field()


class GridWorkerRefOut(Schema):
    id = fields.String()
    name = fields.String()
    username = fields.String()


class GridPropertiesOut(Schema):
    id = fields.UUID()
    name = fields.String()
    region_code = fields.String(metadata={"description": "乡镇代码"})
    town_name = fields.String()
    villages = fields.List(fields.String(), metadata={"description": "所含村/社区代码"})
    workers = fields.List(fields.Nested(GridWorkerRefOut))
    version = fields.Integer()
    area_m2 = fields.Float()
    # Strings: the database assembles the Feature (grids/service.py), its times already in JSON.
    updated_at = fields.String(metadata={"format": "date-time"})
    retired_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class GridFeatureOut(Schema):
    """A GeoJSON Feature; ``properties`` holds name, region_code, villages, workers, version."""

    type = fields.String(validate=validate.OneOf(["Feature"]))
    id = fields.String()
    geometry = GeoJSON("Polygon", "MultiPolygon")
    properties = fields.Nested(GridPropertiesOut)


class PlacementOut(Schema):
    enterprises_relocated = fields.Integer(metadata={"description": "所在网格因此改变的企业数"})


class GridChangeOut(GridFeatureOut):
    """The grid after the change, with what it moved: ``placement`` and the exact ``repairs`` made to
    the geometry (foreign members of the Feature); for a new grid also the ``rest`` of a split village
    and the grids it ``retired``."""

    placement = fields.Nested(PlacementOut)
    repairs = fields.List(fields.String())
    rest = fields.Nested(GridFeatureOut, metadata={"description": "拆分时该村其余部分建成的网格（给出 rest_name 时）"})
    retired = fields.List(fields.String(), metadata={"description": "因 replaces 撤销的网格"})
    workers_unassigned = fields.List(fields.String(), metadata={"description": "因撤销网格而撤下的网格员"})


class GridRetiredOut(GridFeatureOut):
    """The retired grid (``properties.retired_at`` set) and what retiring it changed."""

    placement = fields.Nested(PlacementOut)
    workers_unassigned = fields.List(fields.String(), metadata={"description": "撤下的网格员"})


class GridCollectionOut(PageOut):
    type = fields.String()
    features = fields.List(fields.Nested(GridFeatureOut))


class WorkersIn(Schema):
    worker_ids = fields.List(
        fields.UUID(),
        required=True,
        validate=validate.Length(max=50),
        metadata={"description": "该网格的全部网格员（空列表：撤下所有人）"},
    )
    version = fields.Integer(load_default=None, metadata={"description": "可选的乐观锁版本号"})

    @validates_schema
    def unique(self, data, **kwargs):
        if len(set(data["worker_ids"])) != len(data["worker_ids"]):
            raise ValidationError("网格员重复", "worker_ids")


class AssignmentOut(Schema):
    worker = fields.Nested(GridWorkerRefOut)
    assigned_at = ShownTime()
    assigned_by = fields.Nested(GridNamedRefOut, allow_none=True)
    ended_at = ShownTime(allow_none=True)
    ended_by = fields.Nested(GridNamedRefOut, allow_none=True)


class WorkersOut(Schema):
    grid_id = fields.String()
    version = fields.Integer()
    workers = fields.List(fields.Nested(AssignmentOut), metadata={"description": "当前在岗的网格员"})
    history = fields.List(fields.Nested(AssignmentOut), metadata={"description": "全部任免记录，最新在前"})
