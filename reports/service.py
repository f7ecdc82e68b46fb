"""What the report endpoints answer: a region's monthly figures with its children's ranking, and the
checks they share (the region exists and lies in the caller's area)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.principal import Principal
from core.clock import Clock
from core.errors import FieldError, NotFound, ValidationFailed
from geo.models import Region
from core.periods import Period, month_period
from reports.figures import FIGURE_COLUMNS, frozen_figures, live_figures, month_of

RANKING_RULE = "同一上级下比较：巡查覆盖率高者在前，其次整改销号率高者在前（未发现隐患者居后），再次逾期隐患少者在前"
OFFICE_KEYS = ("inspections", "inspections_by_kind", "enterprises_inspected", "hazards_found", "hazards_found_major")


def visible_region(session: Session, principal: Principal, code: str | None) -> Region:
    """The region named by ``code`` (the caller's own when none), if it lies in the caller's area."""
    region = session.scalar(
        select(Region).where(Region.code == (code or principal.region_code), principal.region_filter(Region.path))
    )
    if region is None:
        raise NotFound("区划不存在或不在您的辖区内", code="region.not_found")
    return region


def parse_month(clock: Clock, key: str | None) -> Period:
    current = month_of(clock)
    if key is None:
        return current
    month = month_period(int(key[:4]), int(key[5:7]))
    if month.first_day > current.first_day:
        raise ValidationFailed(errors=[FieldError("stats.future_month", "month", "统计月份不能晚于本月")])
    return month


def _figures(row: dict) -> dict:
    return {column: row[column] for column in FIGURE_COLUMNS if column != "office"}


def monthly_stats(
    session: Session, clock: Clock, principal: Principal, region_code: str | None, month_key: str | None
) -> dict:
    """月度统计 of a region: frozen at the month's end when the ``monthly_figures`` job has run, live otherwise."""
    region = visible_region(session, principal, region_code)
    month = parse_month(clock, month_key)
    rows = frozen_figures(session, month, region)
    final = region.id in rows
    if not final:
        rows = live_figures(session, clock, month, region)
    own = rows[region.id]
    children = list(session.scalars(select(Region).where(Region.parent_id == region.id)))
    ranked = sorted(
        (child for child in children if child.id in rows), key=lambda child: (rows[child.id]["rank"], child.code)
    )
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "month": month.key,
        "final": final,
        "as_of": own["as_of"],
        "computed_at": own["computed_at"],
        "ranking": RANKING_RULE,
        "figures": _figures(own),
        "office": {key: own["office"].get(key) for key in OFFICE_KEYS},
        "children": [
            {
                "region": {"code": child.code, "name": child.name, "level": child.level},
                "figures": _figures(rows[child.id]),
            }
            for child in ranked
        ],
    }
