"""Enterprise lists (一企一档企业名单) for the import tests, written with openpyxl as a county's Excel would be,
and points inside the demo's villages."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from enterprises.uscc import make_uscc
from geo.coords import wgs84_to_gcj02
from geo.models import Region

HEADER = (
    "企业名称",
    "统一社会信用代码",
    "行业",
    "子类",
    "地址",
    "乡镇",
    "村/社区",
    "经度",
    "纬度",
    "坐标系",
    "法定代表人",
    "联系人",
    "联系电话",
    "风险等级",
)


def list_xlsx(rows, header=HEADER, title_rows=()) -> bytes:
    """An xlsx whose first sheet has ``title_rows`` (e.g. a title line), the header, then ``rows``."""
    book = Workbook()
    sheet = book.active
    sheet.title = "企业名单"
    for line in title_rows:
        sheet.append(list(line))
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def uscc(n: int) -> str:
    """The n-th test code (valid check digit), none of them the demo's."""
    return make_uscc(f"91500299QT{n:07d}")


def inside(session, region, *, gcj02: bool = False) -> tuple[float, float]:
    """A point surely inside the region (PostGIS's point on surface), in WGS-84 or as GCJ-02 would show it."""
    lon, lat = session.execute(
        select(
            func.ST_X(func.ST_PointOnSurface(Region.geometry)), func.ST_Y(func.ST_PointOnSurface(Region.geometry))
        ).where(Region.id == region.id)
    ).one()
    return wgs84_to_gcj02(lon, lat) if gcj02 else (lon, lat)


def row(n, town, village, point, **overrides) -> tuple:
    """One list row in HEADER's order: a fireworks retailer at ``point`` (lon, lat) in ``town``/``village``
    (regions, or text as the cell holds it);
    ``overrides`` by column title (``村`` for 村/社区)."""
    values = {
        "企业名称": f"导入测试烟花零售点{n}",
        "统一社会信用代码": uscc(n),
        "行业": "烟花爆竹",
        "子类": "零售",
        "地址": f"{_name(village)}{n}号",
        "乡镇": _name(town),
        "村/社区": _name(village),
        "经度": point[0],
        "纬度": point[1],
        "坐标系": "",
        "法定代表人": f"法人{n}",
        "联系人": f"联系人{n}",
        "联系电话": "13800138000",
        "风险等级": "黄",
    }
    values.update({"村/社区" if key == "村" else key: value for key, value in overrides.items()})
    return tuple(values[h] for h in HEADER)


def _name(place) -> str:
    """A region's name; text as it is; None as blank."""
    return getattr(place, "name", place) or ""
