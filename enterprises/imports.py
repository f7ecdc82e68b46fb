"""The enterprise import (一企一档导入): a town's or county's list of enterprises as an xlsx — 企业名称、统一社会信用代码、
行业、子类、地址、乡镇、村/社区、经度、纬度 (or one 经纬度 column)、坐标系、法定代表人、联系人、联系电话、风险等级 — becomes
enterprises placed in their village and grid, all rows or none.

Every row is checked before anything is written, and every problem is reported with its row number (as Excel
shows it), its column and a reason in Chinese: a blank required cell, a USCC that fails GB 32100 (its check
digit included), a code twice in the file or already registered, an industry that is none of the five or a
sub-type it does not have, a risk level that is none of 红橙黄蓝 (重大/较大/一般/低), coordinates that are no
numbers, lie outside China or are swapped, a point in no village or outside the caller's region, a town or
village name unknown, ambiguous or of another town, and a point outside the village (or town) the row names
— with the village it does fall in and how far it is from the named one, since a wrong datum moves a point
by some 500 m.

Coordinates are read as GCJ-02 unless told otherwise: a county's existing list was mostly picked on 高德 or
腾讯 maps or taken from WeChat locations, all GCJ-02. A ``crs`` for the whole file (``wgs84`` for GPS and
天地图/CGCS2000, which differ from WGS-84 by centimetres; ``bd09`` for 百度) or a 坐标系 column per row says
otherwise; points are stored in WGS-84 like every other.

A USCC already registered is refused, or with ``existing="update"`` (what a county re-importing its list
wants) that enterprise is updated from the row: its version bumped once, the change audited and fed to the
phones' pull; a row equal to what is stored changes nothing. Its industry is not changed by an import (as by
no edit). A column the sheet lacks leaves those fields as they are.

Places are resolved in one query for the whole file (a VALUES list of the rows' points and names against
regions and grids), existing codes in another; the rows are inserted (or updated) in one statement,
placed in their villages and grids by ``place_enterprises`` in one more, and audited in one — in the
caller's transaction."""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from dataclasses import dataclass, field

from geoalchemy2 import Geography
from sqlalchemy import ARRAY, Float, Integer, String, bindparam, cast, column, func, insert, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from accounts.principal import Principal
from audit.service import entry as audit_entry
from audit.service import record_many
from checklists.definition import INDUSTRIES
from core.clock import Clock
from core.errors import Conflict, Forbidden, TooLarge, ValidationFailed
from core.inputs import bad_text
from core.spreadsheets import (
    Choice,
    Column,
    Layout,
    Progress,
    RowError,
    SheetRow,
    blank_errors,
    in_reading_order,
    read_sheet,
    refusal,
    rows_with_errors,
    template_xlsx,
    text_errors,
)
from enterprises.models import RISK_COLOURS, Enterprise
from enterprises.placement import place_enterprises
from enterprises.uscc import validate_uscc
from geo.coords import CRS_VALUES, in_china, to_wgs84
from geo.models import Grid, Region

EXISTING_MODES = ("refuse", "update")
DEFAULT_CRS = "gcj02"


class ImportUnreadable(ValidationFailed):
    code = "enterprise_import.unreadable"
    title = "无法读取企业名单文件"


class ImportTooLarge(TooLarge):
    code = "enterprise_import.too_large"
    title = "企业名单文件过大"


class ImportInvalid(ValidationFailed):
    code = "enterprise_import.invalid"
    title = "企业名单有错误，未导入任何企业"


LAYOUT = Layout(
    code="enterprise_import",
    noun="企业名单",
    columns=(
        Column(
            "name",
            "企业名称",
            ("单位名称", "企业(单位)名称", "生产经营单位名称", "名称", "企业名", "企业"),
            required=True,
            max_length=200,
        ),
        Column(
            "uscc",
            "统一社会信用代码",
            ("社会信用代码", "信用代码", "统一信用代码", "统一社会信用代码(注册号)"),
            required=True,
            note="18 位，含校验码（GB 32100）",
        ),
        Column(
            "industry",
            "行业",
            ("行业类别", "行业领域", "所属行业", "行业类型", "行业分类"),
            required=True,
            note="烟花爆竹、危险化学品、建筑施工、特种设备、燃气 之一",
        ),
        Column(
            "subtype",
            "子类",
            ("行业子类", "企业类型", "经营类型", "类型", "子类型"),
            note="行业只有一个子类时可不填；也可与行业写在一起，如“烟花爆竹零售”",
        ),
        Column("address", "地址", ("企业地址", "经营地址", "详细地址", "生产经营地址", "注册地址"), max_length=500),
        Column("town", "乡镇", ("乡镇(街道)", "乡镇/街道", "乡镇街道", "街道", "镇(街道)", "所属乡镇")),
        Column("village", "村/社区", ("村(社区)", "村社区", "村", "社区", "村(居)", "所属村(社区)")),
        Column("lon", "经度", ("东经", "lng", "lon", "longitude", "x", "经度(东经)")),
        Column("lat", "纬度", ("北纬", "lat", "latitude", "y", "纬度(北纬)")),
        Column("coordinates", "经纬度", ("坐标", "经纬度坐标", "位置坐标", "经纬度(经度,纬度)")),
        Column(
            "crs",
            "坐标系",
            ("坐标类型", "坐标系统", "坐标来源"),
            note="不填则按导入时选择的坐标系（默认 GCJ-02：高德、腾讯、微信位置）；也可填 WGS-84（GPS、天地图）或 BD-09（百度）",
        ),
        Column(
            "legal_representative", "法定代表人", ("法人", "法人代表", "法定代表人(负责人)", "主要负责人", "负责人")
        ),
        Column("contact_name", "联系人", ("联系人姓名", "安全联系人")),
        Column("contact_phone", "联系电话", ("电话", "手机", "手机号", "联系方式", "联系人电话"), max_length=32),
        Column(
            "risk",
            "风险等级",
            ("风险", "风险级别", "安全风险等级", "风险分级", "四色等级", "风险等级(四色)"),
            required=True,
            note="红、橙、黄、蓝（或 重大、较大、一般、低风险）",
        ),
    ),
    anchor="name",
    header_hint="未找到表头：应有 企业名称、统一社会信用代码、行业、风险等级、经度、纬度 列（或 经纬度 一列）",
    unreadable=ImportUnreadable,
    too_large=ImportTooLarge,
)
TITLES = {c.key: c.title for c in LAYOUT.columns}
REQUIRED = ("name", "uscc", "industry", "risk")
# What a row must have yielded to be written.
WHOLE = ("name", "uscc", "industry", "subtype", "risk")
# Columns a row writes to the enterprise as they are (stripped text; blank is None where the model allows).
TEXT_FIELDS = ("address", "legal_representative", "contact_name", "contact_phone")

RISK_LABELS = {"red": "红（重大风险）", "orange": "橙（较大风险）", "yellow": "黄（一般风险）", "blue": "蓝（低风险）"}
_RISK_WORDS = {
    "red": ("红", "重大", "major", "red"),
    "orange": ("橙", "较大", "significant", "orange"),
    "yellow": ("黄", "一般", "general", "yellow"),
    "blue": ("蓝", "低", "low", "blue"),
}
_INDUSTRY_WORDS = {
    "fireworks": ("烟花爆竹", "烟花"),
    "hazardous_chemicals": ("危险化学品", "危化品", "危化", "危险品"),
    "construction": ("建筑施工", "建设工程", "建筑业", "建筑"),
    "special_equipment": ("特种设备", "特设"),
    "gas": ("城镇燃气", "燃气"),
}
# Short names of the sub-types met in county lists, beside each one's code, title and title head.
_SUBTYPE_WORDS = {
    "fireworks": {"production": ("生产",), "wholesale": ("批发",), "retail": ("零售", "零售店", "零售点")},
    "hazardous_chemicals": {
        "production": ("生产", "使用"),
        "trading": ("不带储存", "无储存", "不带仓储"),
        "storage": ("带储存", "储存", "仓储", "带仓储"),
        "filling_station": ("加油站", "加气站", "加油加气站", "加油"),
    },
    "construction": {"housing_municipal": ("房屋市政", "房屋建筑", "房建", "市政", "施工现场", "工地")},
    "special_equipment": {"user_unit": ("使用单位", "使用")},
    "gas": {
        "operator": ("管道燃气", "燃气经营", "经营企业"),
        "station": ("厂站", "瓶装", "供应站", "储配站", "液化气站", "气站"),
        "catering": ("餐饮",),
        "other_user": ("非居民", "其他用户", "工业用户", "其他"),
    },
}
CRS_WORDS = {
    "gcj02": ("gcj02", "gcj-02", "gcj", "高德", "腾讯", "国测局", "火星", "微信"),
    "wgs84": ("wgs84", "wgs-84", "wgs", "gps", "cgcs2000", "cgcs", "天地图", "国家2000", "2000", "epsg:4326", "4326"),
    "bd09": ("bd09", "bd-09", "bd09ll", "百度", "bd"),
}
CRS_NAMES = {"gcj02": "GCJ-02", "wgs84": "WGS-84", "bd09": "BD-09"}


@dataclass
class ImportReport:
    dry_run: bool
    existing: str
    crs: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    enterprises: list[dict] = field(default_factory=list)
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for e in self.enterprises if e["action"] == action)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "existing": self.existing,
            "crs": self.crs,
            "rows": self.rows,
            "written": self.written,
            "created": self.count("create"),
            "updated": self.count("update"),
            "unchanged": self.count("unchanged"),
            "errors": [e.as_dict() for e in self.errors],
            "enterprises": self.enterprises,
        }


@dataclass
class Row:
    """One sheet row as checked: what it would store (``values``, WGS-84 ``lon``/``lat``) and the names it gave."""

    row: int
    cells: SheetRow
    values: dict = field(default_factory=dict)
    lon: float | None = None
    lat: float | None = None
    crs: str = DEFAULT_CRS


# --- reading one row ----------------------------------------------------------------------------


def _key(text: str) -> str:
    return re.sub(r"[\s()（）\[\]【】:：,，、/\\·_-]+", "", text).lower()


def parse_industry(text: str) -> tuple[str | None, str]:
    """The industry a cell names (code, 中文名 or a usual short name, maybe followed by the sub-type:
    “烟花爆竹零售”), and what follows the industry's name."""
    key = _key(text)
    for code in INDUSTRIES:
        if key == _key(code):  # hazardous_chemicals, as the API writes it
            return code, ""
    best = None
    for code, words in _INDUSTRY_WORDS.items():
        for word in words:
            if key.startswith(word) and (best is None or len(word) > len(best[1])):
                best = (code, word)
    if best is None:
        return None, ""
    return best[0], key[len(best[1]) :]


def parse_subtype(industry: str, text: str) -> tuple[str | None, list[str]]:
    """The sub-type of ``industry`` a cell names: its code, its title or a usual short name; else the one
    title holding the text (“零售经营者”); else the longest name the text holds (“餐饮用户”).
    ``(None, candidates)`` when several fit as well."""
    key = _key(text)
    subtypes = INDUSTRIES[industry].subtypes
    words = _SUBTYPE_WORDS.get(industry, {})
    exact = {code for code, title in subtypes.items() if key in {_key(w) for w in (code, title, *words.get(code, ()))}}
    if len(exact) == 1:
        return exact.pop(), []
    within = sorted(code for code, title in subtypes.items() if key in _key(title))
    if within:
        return (within[0], []) if len(within) == 1 else (None, within)
    found = [
        (len(_key(word)), code)
        for code, title in subtypes.items()
        for word in (title.split("（")[0], *words.get(code, ()))
        if _key(word) in key
    ]
    if not found:
        return None, []
    longest = max(length for length, _ in found)
    codes = sorted({code for length, code in found if length == longest})
    return (codes[0], []) if len(codes) == 1 else (None, codes)


def parse_risk(text: str) -> str | None:
    """红/橙/黄/蓝, 重大/较大/一般/低(风险), or the codes; None when it names none or several."""
    key = _key(text)
    if key in RISK_COLOURS:
        return key
    named = {colour for colour, words in _RISK_WORDS.items() for word in words if word in key}
    return named.pop() if len(named) == 1 else None


def parse_crs(text: str) -> str | None:
    """The datum a 坐标系 cell names: its code or the map it comes from (“高德地图坐标”, “天地图”, “GPS”)."""
    key = _key(text)
    bare = re.sub("坐标系|坐标|地图$", "", key)
    for crs, words in CRS_WORDS.items():
        if {key, bare} & {_key(w) for w in words}:
            return crs
    for crs, words in CRS_WORDS.items():  # “高德地图拾取” and the like
        if any(len(w) > 1 and not w.isdigit() and _key(w) in key for w in words):
            return crs
    return None


_DMS = re.compile(
    r"^(?P<deg>\d+(?:\.\d+)?)\s*[°度]\s*"
    r"(?:(?P<min>\d+(?:\.\d+)?)\s*['′’分]\s*)?"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:[\"″”]|''|′′|秒)\s*)?$"
)


def parse_degrees(text: str) -> float | None:
    """A coordinate as decimal degrees: ``107.8123``, ``107.8123°``, ``东经107°48′44″``, ``E107.81``; None
    when it is none of these or not finite."""
    value = re.sub(r"^(东经|北纬|[EN])\s*|\s*[EN]$", "", text.strip(), flags=re.IGNORECASE).strip()
    try:
        number = float(value.rstrip("°度").strip())
    except ValueError:
        match = _DMS.match(value)
        if not match:
            return None
        number = float(match["deg"]) + float(match["min"] or 0) / 60 + float(match["sec"] or 0) / 3600
        if float(match["min"] or 0) >= 60 or float(match["sec"] or 0) >= 60:
            return None
    return number if math.isfinite(number) else None


def _check_cells(row: SheetRow, columns: dict[str, int], default_crs: str) -> tuple[Row, list]:
    """Every problem one row has on its own, and what it would store."""
    errors = text_errors(LAYOUT, row)
    bad = {e.column for e in errors}
    errors += blank_errors(LAYOUT, row, REQUIRED, already=bad)
    checked = Row(row.row, row)
    values = checked.values
    if row["name"] and "企业名称" not in bad:
        values["name"] = row["name"]
    if row["uscc"] and "统一社会信用代码" not in bad:
        try:
            values["uscc"] = validate_uscc(row["uscc"], field=None)
        except ValidationFailed as err:
            message = err.errors[0].message if err.errors else err.detail
            errors.append(RowError(row.row, "统一社会信用代码", "enterprise_import.uscc_invalid", message))
    errors += _check_industry(row, values, bad)
    if row["risk"] and "风险等级" not in bad:
        risk = parse_risk(row["risk"])
        if risk is None:
            errors.append(
                RowError(
                    row.row,
                    "风险等级",
                    "enterprise_import.risk_unknown",
                    f"“{row['risk']}”不是风险等级：应为 红、橙、黄、蓝（重大、较大、一般、低风险）之一",
                )
            )
        else:
            values["risk"] = risk
    for key in TEXT_FIELDS:
        if key in columns and TITLES[key] not in bad:
            values[key] = row[key] if key == "address" else (row[key] or None)
    errors += _check_location(checked, columns, default_crs, bad)
    return checked, errors


def _check_industry(row: SheetRow, values: dict, bad: set) -> list[RowError]:
    if not row["industry"] or "行业" in bad or "子类" in bad:
        return []
    industry, rest = parse_industry(row["industry"])
    if industry is None:
        names = "、".join(i.title for i in INDUSTRIES.values())
        return [
            RowError(
                row.row,
                "行业",
                "enterprise_import.industry_unknown",
                f"“{row['industry']}”不是本系统的行业：应为 {names}",
            )
        ]
    values["industry"] = industry
    subtypes = INDUSTRIES[industry].subtypes
    wanted = row["subtype"] or rest
    column = "子类" if row["subtype"] else "行业"
    options = "、".join(subtypes.values())
    if not wanted:
        if len(subtypes) == 1:
            values["subtype"] = next(iter(subtypes))
            return []
        return [
            RowError(
                row.row,
                "子类",
                "enterprise_import.subtype_missing",
                f"行业“{INDUSTRIES[industry].title}”须填写子类：{options}",
            )
        ]
    subtype, tied = parse_subtype(industry, wanted)
    if subtype is None and tied:
        return [
            RowError(
                row.row,
                column,
                "enterprise_import.subtype_ambiguous",
                f"“{wanted}”可指 {'、'.join(subtypes[c] for c in tied)}，请写明",
            )
        ]
    if subtype is None:
        return [
            RowError(
                row.row,
                column,
                "enterprise_import.subtype_unknown",
                f"“{wanted}”不是“{INDUSTRIES[industry].title}”的子类：应为 {options}",
            )
        ]
    values["subtype"] = subtype
    return []


def _check_location(checked: Row, columns: dict[str, int], default_crs: str, bad: set) -> list[RowError]:
    row = checked.cells
    number = checked.row
    crs = default_crs
    if row["crs"] and "坐标系" not in bad:
        crs = parse_crs(row["crs"])
        if crs is None:
            return [
                RowError(
                    number,
                    "坐标系",
                    "enterprise_import.crs_unknown",
                    f"“{row['crs']}”不是可识别的坐标系：应为 GCJ-02（高德、腾讯）、WGS-84（GPS、天地图）或 BD-09（百度）",
                )
            ]
    checked.crs = crs
    if row["lon"] or row["lat"] or "coordinates" not in columns:
        errors = []
        for key, title in (("lon", "经度"), ("lat", "纬度")):
            if title in bad:
                return []
            if not row[key]:
                errors.append(RowError(number, title, "enterprise_import.location_missing", f"{title}为空"))
            elif parse_degrees(row[key]) is None:
                errors.append(
                    RowError(
                        number, title, "enterprise_import.location_invalid", f"“{row[key]}”不是{title}（十进制度数）"
                    )
                )
        if errors:
            return errors
        lon, lat = parse_degrees(row["lon"]), parse_degrees(row["lat"])
        if not in_china(lon, lat) and in_china(lat, lon):
            return [
                RowError(
                    number,
                    "经度",
                    "enterprise_import.location_swapped",
                    f"经度 {row['lon']}、纬度 {row['lat']} 似乎填反了（中国境内经度约 73–135，纬度约 4–54）",
                )
            ]
    else:
        if "经纬度" in bad:
            return []
        text = row["coordinates"]
        if not text:
            return [RowError(number, "经纬度", "enterprise_import.location_missing", "经纬度为空")]
        parts = [p for p in re.split(r"[,，;；、\s]+", text) if p]
        numbers = [parse_degrees(p) for p in parts]
        if len(parts) != 2 or None in numbers:
            return [
                RowError(
                    number,
                    "经纬度",
                    "enterprise_import.location_invalid",
                    f"“{text}”不是“经度,纬度”（如 107.8123,30.7021）",
                )
            ]
        lon, lat = numbers
        # Within China the two ranges do not overlap (longitude ≥ 73 > 54 ≥ latitude): either order is clear.
        if not in_china(lon, lat) and in_china(lat, lon):
            lon, lat = lat, lon
    if not in_china(lon, lat):
        return [
            RowError(
                number,
                "经纬度",
                "enterprise_import.location_outside_china",
                f"经纬度（{lon:g}, {lat:g}）不在中国境内，请核对",
            )
        ]
    checked.lon, checked.lat = to_wgs84(lon, lat, crs)
    return []


# --- checking against the database --------------------------------------------------------------


def _places(session: Session, principal: Principal, rows: list[Row]) -> dict[int, object]:
    """One query for every row with a point: the village the point falls in (and whether it is the caller's
    to import into), its grid, and the towns and villages in the caller's region bearing the names the
    row gives, each with its distance from the point. ``{row number: result row}``."""
    located = [r for r in rows if r.lon is not None]
    if not located:
        return {}
    # The rows go as five arrays (unnest): a VALUES list of 5,000 rows would be 25,000 bound parameters,
    # which SQLAlchemy takes longer to compile than PostgreSQL takes to answer.
    wanted = (
        func.unnest(
            bindparam("lines", [r.row for r in located], type_=ARRAY(Integer)),
            bindparam("lons", [r.lon for r in located], type_=ARRAY(Float)),
            bindparam("lats", [r.lat for r in located], type_=ARRAY(Float)),
            bindparam("towns", [r.cells["town"] for r in located], type_=ARRAY(String)),
            bindparam("villages", [r.cells["village"] for r in located], type_=ARRAY(String)),
        )
        .table_valued(
            column("line", Integer),
            column("lon", Float),
            column("lat", Float),
            column("town", String),
            column("village", String),
            name="wanted",
        )
        .render_derived()
    )
    point = func.ST_SetSRID(func.ST_MakePoint(wanted.c.lon, wanted.c.lat), 4326)
    village, town = aliased(Region), aliased(Region)
    hit = (
        select(
            village.id.label("village_id"),
            village.name.label("village_name"),
            town.id.label("town_id"),
            town.name.label("town_name"),
            principal.region_filter(village.path).label("in_scope"),
        )
        .join(town, town.id == village.parent_id)
        .where(village.level == "village", func.ST_Covers(village.geometry, point))
        .order_by(village.code)  # as place_enterprises orders them
        .limit(1)
        .lateral("hit")
    )
    grid = (
        select(Grid.id.label("grid_id"), Grid.name.label("grid_name"))
        .where(Grid.retired_at.is_(None), func.ST_Covers(Grid.geometry, point))
        .order_by(Grid.created_at, Grid.id)  # the oldest grid wins, as place_enterprises decides
        .limit(1)
        .lateral("grid")
    )

    def distance(region):
        return func.round(func.ST_Distance(cast(region.geometry, Geography), cast(point, Geography)).cast(Float)).cast(
            Integer
        )

    named_town = aliased(Region)
    towns = (
        select(
            func.json_agg(
                func.json_build_object("id", named_town.id, "name", named_town.name, "distance", distance(named_town))
            ).label("towns")
        )
        .where(
            wanted.c.town != "",
            named_town.level == "town",
            (named_town.name == wanted.c.town) | (named_town.code == wanted.c.town),
            principal.region_filter(named_town.path),
        )
        .lateral("towns")
    )
    named_village, its_town = aliased(Region), aliased(Region)
    villages = (
        select(
            func.json_agg(
                func.json_build_object(
                    "id",
                    named_village.id,
                    "name",
                    named_village.name,
                    "town_id",
                    its_town.id,
                    "town_name",
                    its_town.name,
                    "distance",
                    distance(named_village),
                )
            ).label("villages")
        )
        .join(its_town, its_town.id == named_village.parent_id)
        .where(
            wanted.c.village != "",
            named_village.level == "village",
            (named_village.name == wanted.c.village) | (named_village.code == wanted.c.village),
            principal.region_filter(named_village.path),
        )
        .lateral("villages")
    )
    stmt = (
        select(wanted.c.line, hit, grid, towns.c.towns, villages.c.villages)
        .select_from(wanted)
        .outerjoin(hit, true())
        .outerjoin(grid, true())
        .outerjoin(towns, true())
        .outerjoin(villages, true())
    )
    # Thousands of rows make the planner's estimate large enough for JIT compilation, which costs more
    # (≈ 0.7 s) than the whole lookup through the indexes; the setting ends with the transaction.
    session.execute(text("SET LOCAL jit = off"))
    return {result.line: result for result in session.execute(stmt)}


def _place(checked: Row, found) -> tuple[dict | None, list[RowError]]:
    """Where the row's point lies, or why it may not be imported there."""
    number = checked.row
    given = f"按 {CRS_NAMES[checked.crs]} 读取"
    town_text, village_text = checked.cells["town"], checked.cells["village"]
    errors = []
    named_towns = (found.towns or []) if town_text else []
    town_ids = {t["id"] for t in named_towns}
    if town_text and not named_towns:
        errors.append(
            RowError(number, "乡镇", "enterprise_import.unknown_town", f"乡镇“{town_text}”不存在或不在您的辖区内")
        )
    elif len(named_towns) > 1:
        errors.append(
            RowError(
                number,
                "乡镇",
                "enterprise_import.ambiguous_town",
                f"有 {len(named_towns)} 个乡镇名为“{town_text}”，请填写 12 位区划代码",
            )
        )
    named_village = None
    if village_text and not errors:
        candidates = found.villages or []
        inside = [v for v in candidates if not town_text or v["town_id"] in town_ids]
        if len(inside) == 1:
            named_village = inside[0]
        elif len(inside) > 1:
            errors.append(
                RowError(
                    number,
                    "村/社区",
                    "enterprise_import.ambiguous_village",
                    f"有 {len(inside)} 个村/社区名为“{village_text}”（"
                    + "、".join(sorted({v["town_name"] for v in inside}))
                    + "），请填写乡镇或 12 位区划代码",
                )
            )
        elif candidates:
            elsewhere = "、".join(sorted({v["town_name"] for v in candidates}))
            errors.append(
                RowError(
                    number,
                    "村/社区",
                    "enterprise_import.village_not_in_town",
                    f"村/社区“{village_text}”不属于“{named_towns[0]['name']}”（属于{elsewhere}）",
                )
            )
        else:
            within = f"“{named_towns[0]['name']}”没有" if town_text else "您的辖区内没有"
            errors.append(
                RowError(
                    number, "村/社区", "enterprise_import.unknown_village", f"{within}名为“{village_text}”的村/社区"
                )
            )
    if found.village_id is None:
        errors.append(
            RowError(
                number,
                "经纬度",
                "enterprise_import.location_outside_villages",
                f"位置（{given}）不在任何村/社区范围内：请核对经纬度和坐标系",
            )
        )
        return None, errors
    if not found.in_scope:
        errors.append(
            RowError(
                number,
                "经纬度",
                "enterprise_import.location_outside_scope",
                f"位置（{given}）不在您的辖区内",
            )
        )
        return None, errors
    if errors:
        return None, errors
    falls_in = f"位置落在“{found.town_name}{found.village_name}”"
    if named_village is not None and str(found.village_id) != named_village["id"]:
        return None, [
            RowError(
                number,
                "经纬度",
                "enterprise_import.location_not_in_village",
                f"{falls_in}，不在“{named_village['town_name']}{named_village['name']}”内"
                + _distance_text(named_village["distance"])
                + f"；请核对经纬度和坐标系（{given}）",
            )
        ]
    if named_village is None and named_towns and str(found.town_id) != named_towns[0]["id"]:
        return None, [
            RowError(
                number,
                "经纬度",
                "enterprise_import.location_not_in_town",
                f"{falls_in}，不在“{named_towns[0]['name']}”内"
                + _distance_text(named_towns[0]["distance"])
                + f"；请核对经纬度和坐标系（{given}）",
            )
        ]
    return {
        "village_id": found.village_id,
        "village": found.village_name,
        "town": found.town_name,
        "grid": {"id": found.grid_id, "name": found.grid_name} if found.grid_id else None,
    }, []


def _distance_text(metres) -> str:
    if metres is None:
        return ""
    return f"（距其边界约 {metres / 1000:.1f} 公里）" if metres >= 1000 else f"（距其边界约 {metres} 米）"


def _existing(session: Session, principal: Principal, codes: list[str], *, lock: bool) -> dict[str, object]:
    """One query: the enterprises already holding these codes, each with whether the caller sees it."""
    if not codes:
        return {}
    stmt = select(
        Enterprise.id,
        Enterprise.uscc,
        Enterprise.name,
        Enterprise.industry,
        Enterprise.subtype,
        Enterprise.address,
        Enterprise.risk,
        Enterprise.legal_representative,
        Enterprise.contact_name,
        Enterprise.contact_phone,
        Enterprise.version,
        func.ST_X(Enterprise.location).label("lon"),
        func.ST_Y(Enterprise.location).label("lat"),
        principal.enterprise_filter(Enterprise).label("visible"),
    ).where(Enterprise.uscc.in_(codes))
    if lock:
        stmt = stmt.with_for_update(of=Enterprise)
    return {row.uscc: row for row in session.execute(stmt)}


# Stored fields an import row may change, besides the location.
UPDATABLE = ("name", "subtype", "risk", *TEXT_FIELDS)
# Less than a millimetre: the same list read again is not a move.
SAME_POINT_DEGREES = 1e-8


def _changes(current, checked: Row) -> dict:
    """What the row changes in a stored enterprise: ``{field: (before, after)}``, ``location`` included."""
    changes = {
        key: (getattr(current, key), checked.values[key])
        for key in UPDATABLE
        if key in checked.values and checked.values[key] != getattr(current, key)
    }
    if abs(current.lon - checked.lon) > SAME_POINT_DEGREES or abs(current.lat - checked.lat) > SAME_POINT_DEGREES:
        changes["location"] = ({"lon": current.lon, "lat": current.lat}, {"lon": checked.lon, "lat": checked.lat})
    return changes


def check_rows(
    session: Session,
    principal: Principal,
    sheet_rows: list[SheetRow],
    columns: dict[str, int],
    *,
    existing: str,
    crs: str,
    lock: bool,
    progress: Progress,
) -> tuple[list[tuple[Row, dict, object | None, dict]], list[RowError]]:
    """Every row's problems, or for each row what it is: (row, place, the enterprise it updates or None,
    the changes)."""
    progress.begin("检查", len(sheet_rows))
    errors: list[RowError] = []
    checked: list[Row] = []
    first_row_of: dict[str, int] = {}
    for sheet_row in sheet_rows:
        row, problems = _check_cells(sheet_row, columns, crs)
        errors += problems
        code = row.values.get("uscc")
        if code is not None:
            if code in first_row_of:
                errors.append(
                    RowError(
                        row.row,
                        "统一社会信用代码",
                        "enterprise_import.uscc_duplicate_in_file",
                        f"统一社会信用代码 {code} 与第 {first_row_of[code]} 行重复",
                    )
                )
                del row.values["uscc"]
            else:
                first_row_of[code] = row.row
        checked.append(row)
    stored = _existing(session, principal, list(first_row_of), lock=lock)
    places = _places(session, principal, [r for r in checked if not bad_text(r.cells["town"] + r.cells["village"])])
    plan = []
    for row in checked:
        current = stored.get(row.values.get("uscc"))
        if current is not None:
            errors += _against_stored(row, current, existing)
        place = None
        if row.row in places:
            place, problems = _place(row, places[row.row])
            errors += problems
        if place is not None and all(key in row.values for key in WHOLE):
            plan.append((row, place, current, _changes(current, row) if current is not None else {}))
        progress.advance(1)
    return plan, errors


def _against_stored(row: Row, current, existing: str) -> list[RowError]:
    column = "统一社会信用代码"
    if existing == "refuse":
        held = f"“{current.name}”" if current.visible else "辖区外的一家企业"
        return [
            RowError(
                row.row,
                column,
                "enterprise_import.uscc_taken",
                f"该统一社会信用代码已登记为{held}（要以本表更新它：导入时“已登记的信用代码”选“按本表更新该企业”，命令行加 --update-existing）",
            )
        ]
    if not current.visible:
        return [
            RowError(
                row.row,
                column,
                "enterprise_import.uscc_outside_scope",
                "该统一社会信用代码已登记为辖区外的企业，不能由您更新",
            )
        ]
    industry = row.values.get("industry")
    if industry is not None and industry != current.industry:
        return [
            RowError(
                row.row,
                "行业",
                "enterprise_import.industry_changed",
                f"“{current.name}”已登记的行业为“{INDUSTRIES[current.industry].title}”，导入不能改变行业",
            )
        ]
    return []


# --- the import ---------------------------------------------------------------------------------


def require_importer(principal: Principal) -> None:
    if not principal.has("admin", "desk_officer"):
        raise Forbidden("只有管理员或内勤人员可以导入企业")


def import_enterprises(
    session: Session,
    clock: Clock,
    principal: Principal,
    data: bytes,
    *,
    dry_run: bool,
    existing: str = "refuse",
    crs: str = DEFAULT_CRS,
    filename: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a list of enterprises and, unless ``dry_run``, register (or with ``existing="update"`` update)
    them — all of them or, on any error, none (ImportInvalid carries every row error)."""
    require_importer(principal)
    if existing not in EXISTING_MODES:
        raise ValueError(existing)
    if crs not in CRS_VALUES:
        raise ValueError(crs)
    progress = progress or Progress()
    sheet = read_sheet(LAYOUT, data)
    report = ImportReport(dry_run=dry_run, existing=existing, crs=crs, rows=len(sheet.rows))
    errors = list(sheet.errors)
    if not errors and not ({"lon", "lat"} <= sheet.columns.keys() or "coordinates" in sheet.columns):
        errors = [
            RowError(
                sheet.header_row,
                "经度" if "lon" not in sheet.columns else "纬度",
                "enterprise_import.missing_column",
                "表头缺少“经度”“纬度”列（或“经纬度”一列）",
            )
        ]
    plan = []
    if not errors:
        plan, errors = check_rows(
            session,
            principal,
            sheet.rows,
            sheet.columns,
            existing=existing,
            crs=crs,
            lock=not dry_run and existing == "update",
            progress=progress,
        )
    if not errors and not sheet.rows:
        errors = [RowError(1, None, "enterprise_import.empty", "企业名单没有数据行")]
    report.errors = in_reading_order(LAYOUT, errors)
    if report.errors:
        raise refusal(
            ImportInvalid,
            report.errors,
            f"企业名单共 {len(sheet.rows)} 行，{rows_with_errors(report.errors)} 行有错误；未导入任何企业",
            report.as_dict(),
        )
    report.enterprises = [_shown(row, place, current, changes) for row, place, current, changes in plan]
    if dry_run:
        return report
    _write(session, clock, principal, plan, report, progress)
    report.written = True
    record_many(
        session,
        [
            audit_entry(
                clock,
                principal,
                "import_enterprises",
                "enterprise_import",
                hashlib.sha256(data).hexdigest(),
                {
                    "file": filename,
                    "rows": report.rows,
                    "created": report.count("create"),
                    "updated": report.count("update"),
                    "unchanged": report.count("unchanged"),
                    "existing": existing,
                    "crs": crs,
                    **({"via": principal.extra["via"]} if principal.extra.get("via") else {}),
                },
            )
        ],
    )
    session.flush()
    return report


def _shown(row: Row, place: dict, current, changes: dict) -> dict:
    values = row.values
    return {
        "row": row.row,
        "action": "create" if current is None else "update" if changes else "unchanged",
        "id": current.id if current is not None else None,
        "name": values["name"],
        "uscc": values["uscc"],
        "industry": values["industry"],
        "subtype": values["subtype"],
        "risk": values["risk"],
        "location": {"lon": row.lon, "lat": row.lat},
        "town": place["town"],
        "village": place["village"],
        "grid": place["grid"],
        "changed": sorted(changes),
    }


def _point(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon!r} {lat!r})"


def _write(session: Session, clock: Clock, principal: Principal, plan, report: ImportReport, progress: Progress):
    """The new enterprises in one INSERT, the changed ones in one UPDATE, all placed by one
    place_enterprises, every change audited in one INSERT."""
    now = clock.now()
    table = Enterprise.__table__
    via = {"via": "import", "row": None}
    created, updated, audits = [], [], []
    progress.begin("写入", len(plan))
    for (row, place, current, changes), shown in zip(plan, report.enterprises):
        values = row.values
        if current is None:
            shown["id"] = uuid.uuid4()
            created.append(
                {
                    "id": shown["id"],
                    "name": values["name"],
                    "uscc": values["uscc"],
                    "industry": values["industry"],
                    "subtype": values["subtype"],
                    "risk": values["risk"],
                    "address": values.get("address", ""),
                    "legal_representative": values.get("legal_representative"),
                    "contact_name": values.get("contact_name"),
                    "contact_phone": values.get("contact_phone"),
                    "location": _point(row.lon, row.lat),
                    "licences": [],
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            summary = {"name": values["name"], "uscc": values["uscc"], **via, "row": row.row}
            audits.append(audit_entry(clock, principal, "create", "enterprise", shown["id"], summary))
        elif changes:
            updated.append(
                {
                    "p_id": current.id,
                    **{f"p_{key}": values.get(key, getattr(current, key)) for key in UPDATABLE},
                    "p_location": _point(row.lon, row.lat),
                    "p_version": current.version + 1,
                    "p_updated_at": now,
                    "moved": "location" in changes,
                }
            )
            summary = {
                "before": {k: before for k, (before, _) in changes.items()},
                "after": {k: after for k, (_, after) in changes.items()},
                "moved": "location" in changes,
                **via,
                "row": row.row,
            }
            audits.append(audit_entry(clock, principal, "update", "enterprise", current.id, summary))
    if created:
        try:
            session.execute(insert(Enterprise), created)
        except IntegrityError as err:  # another import registered one of these codes since they were checked
            raise Conflict(
                "有企业在检查之后被他人登记了相同的统一社会信用代码，请重新导入", code="enterprise_import.uscc_race"
            ) from err
    if updated:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("p_id"))
            .values(
                {key: bindparam(f"p_{key}") for key in (*UPDATABLE, "version", "updated_at")}
                | {"location": func.ST_GeomFromEWKT(bindparam("p_location"))}
            ),
            [{k: v for k, v in u.items() if k != "moved"} for u in updated],
        )
    progress.advance(len(plan) - len(created) - len(updated))
    moved = [u for u in updated if u["moved"]]
    to_place = [c["id"] for c in created] + [u["p_id"] for u in moved]
    if to_place:
        place_enterprises(session, to_place, at=now)
        if moved:
            # place_enterprises bumps the version of those it moves: one import of a row is one version.
            session.execute(
                update(table).where(table.c.id == bindparam("p_id")).values(version=bindparam("p_version")),
                [{"p_id": u["p_id"], "p_version": u["p_version"]} for u in moved],
            )
    progress.advance(len(created) + len(updated))
    record_many(session, audits)
    session.flush()
    _read_back(session, report)


def _read_back(session: Session, report: ImportReport) -> None:
    """The village and grid each written enterprise was placed in, as stored."""
    ids = [e["id"] for e in report.enterprises if e["action"] != "unchanged"]
    if not ids:
        return
    village, town = aliased(Region), aliased(Region)
    placed = {
        row.id: row
        for row in session.execute(
            select(
                Enterprise.id,
                village.name.label("village"),
                town.name.label("town"),
                Grid.id.label("grid_id"),
                Grid.name.label("grid_name"),
            )
            .outerjoin(village, village.id == Enterprise.region_id)
            .outerjoin(town, town.id == village.parent_id)
            .outerjoin(Grid, Grid.id == Enterprise.grid_id)
            .where(Enterprise.id.in_(ids))
        )
    }
    for shown in report.enterprises:
        row = placed.get(shown["id"])
        if row is not None:
            shown["town"], shown["village"] = row.town, row.village
            shown["grid"] = {"id": row.grid_id, "name": row.grid_name} if row.grid_id else None


# --- the blank workbook -------------------------------------------------------------------------


def import_template(session: Session, principal: Principal) -> bytes:
    """The xlsx to fill in: the columns in order, drop-downs for 行业、子类、风险等级、坐标系 and the caller's
    towns and villages, and a sheet of notes."""
    require_importer(principal)
    places = session.execute(
        select(Region.name, Region.level)
        .where(Region.level.in_(("town", "village")), principal.region_filter(Region.path))
        .order_by(Region.code)
    ).all()
    towns = tuple(dict.fromkeys(name for name, level in places if level == "town"))
    villages = tuple(dict.fromkeys(name for name, level in places if level == "village"))
    subtypes = tuple(dict.fromkeys(title for i in INDUSTRIES.values() for title in i.subtypes.values()))
    notes = [
        "一企一档 企业名单导入模板：在第一张工作表中每行填写一家企业（表头不要改动，带 * 的列必填）。",
        "统一社会信用代码：18 位，含校验码；同一文件中不能重复。已登记的代码默认报错；导入时“已登记的信用代码”选“按本表更新该企业”则按本表更新（行业不能改变；表中没有的列不改）。",
        "行业：" + "、".join(i.title for i in INDUSTRIES.values()) + "。",
        "子类：行业只有一个子类时可不填。各行业的子类："
        + "；".join(f"{i.title}——{'、'.join(i.subtypes.values())}" for i in INDUSTRIES.values())
        + "。",
        "风险等级：红（重大风险）、橙（较大风险）、黄（一般风险）、蓝（低风险）。",
        "经度、纬度：十进制度数（如 107.812345、30.702145），或度分秒（如 107°48′44″）；也可只填“经纬度”一列（经度,纬度）。",
        "坐标系：不填则按导入时选择的坐标系，默认 GCJ-02（高德地图、腾讯地图、微信位置）。GPS 设备、天地图为 WGS-84（CGCS2000），百度地图为 BD-09。"
        "坐标系选错会使位置偏移约 500 米，系统会核对位置是否在所填村/社区内。",
        "乡镇、村/社区：可不填；填写时系统核对位置是否在其范围内。所在村与网格由位置自动确定。",
        "任何一行有错误则整个文件都不导入，并逐行列出错误；改正后重新导入即可。",
    ]
    return template_xlsx(
        LAYOUT,
        sheet_name="企业名单",
        keys=(
            "name",
            "uscc",
            "industry",
            "subtype",
            "address",
            "town",
            "village",
            "lon",
            "lat",
            "crs",
            "legal_representative",
            "contact_name",
            "contact_phone",
            "risk",
        ),
        notes=notes,
        choices=(
            Choice("industry", tuple(i.title for i in INDUSTRIES.values())),
            Choice("subtype", subtypes),
            Choice("risk", tuple(RISK_LABELS.values())),
            Choice("crs", ("GCJ-02", "WGS-84", "BD-09")),
            Choice("town", towns),
            Choice("village", villages),
        ),
        marked=("lon", "lat"),  # or one 经纬度 column, which the template does not offer
        widths={"name": 30, "uscc": 22, "address": 30, "subtype": 22, "lon": 13, "lat": 13, "contact_phone": 14},
    )
