"""The hazard ledger (隐患台账) as an Excel workbook, the way a safety office keeps it.

Rows come from ``inspections.hazards.ledger_select`` — the very query of ``GET /hazards`` with the same
filters and scope — read through a server-side cursor and sent as they come (reports.xlsx_stream): the first byte leaves at
once and memory stays flat however long the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Callable, Iterator

from sqlalchemy import case
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from accounts.principal import Principal
from checklists.definition import INDUSTRIES
from core.clock import SHANGHAI, Clock
from enterprises.models import Enterprise
from geo.models import Grid, Region
from cases.service import penalty_case_of  # noqa: F401  (registers the ledger's penalty_case column)
from inspections.hazards import ledger_select
from inspections.models import Hazard
from reports.xlsx_stream import StreamedWorkbook

LEVEL_LABELS = {"general": "一般隐患", "major": "重大事故隐患"}
SOURCE_LABELS = {
    "inspection": "执法检查",
    "patrol": "网格员巡查",
    "grid_report": "网格员上报",
    "self": "企业自查",
    "public": "群众举报",
}
STATUS_LABELS = {"reported": "已登记", "ordered": "整改中", "submitted": "整改完成待复查", "closed": "已销号"}
CASE_STATUS_LABELS = {
    "filed": "已立案",
    "investigating": "调查取证",
    "notified": "已告知",
    "decided": "已决定",
    "executed": "已执行",
    "closed": "已结案",
}
OVERDUE_LABEL = "逾期未整改"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
ROWS_PER_FETCH = 1000
SHEET_TITLE = "隐患台账"


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    value: Callable[[Any], Any]
    is_time: bool = False
    is_money: bool = False


def _local(value: datetime | None):
    """Excel has no time zones: times are written as Beijing time."""
    return value.astimezone(SHANGHAI).replace(tzinfo=None) if value else None


def _status(row) -> str:
    return OVERDUE_LABEL if row.overdue else STATUS_LABELS.get(row.status, row.status)


def _case(row, value: Callable[[dict], Any]):
    return value(row.penalty_case) if row.penalty_case else None


def _five(key: str) -> Callable[[Any], Any]:
    """One of the 五落实 (recorded when a major hazard is ordered rectified)."""
    return lambda row: (row.five or {}).get(key)


COLUMNS: tuple[Column, ...] = (
    Column("序号", 6, lambda row: None),  # filled with the running number
    Column("企业名称", 30, lambda row: row.enterprise_name),
    Column("统一社会信用代码", 22, lambda row: row.uscc),
    Column("行业", 12, lambda row: INDUSTRIES[row.industry].title if row.industry in INDUSTRIES else row.industry),
    Column("乡镇（街道）", 14, lambda row: row.town_name),
    Column("所在村（社区）", 14, lambda row: row.village_name),
    Column("所在网格", 16, lambda row: row.grid_name),
    Column("隐患描述", 48, lambda row: row.description),
    Column("隐患等级", 13, lambda row: LEVEL_LABELS.get(row.level, row.level)),
    Column("发现时间", 17, lambda row: row.found_at, is_time=True),
    Column("发现人", 10, lambda row: row.found_by_name),
    Column("发现来源", 12, lambda row: SOURCE_LABELS.get(row.source, row.source)),
    Column("整改期限", 17, lambda row: row.deadline, is_time=True),
    Column("整改责任人", 12, lambda row: row.responsible_person),
    Column("整改措施", 36, lambda row: row.measures),
    # 五落实 of a major hazard: 责任、措施、资金、时限、预案.
    Column("五落实·责任", 20, _five("responsibility")),
    Column("五落实·措施", 36, _five("measures")),
    Column("五落实·资金", 16, _five("funds")),
    Column("五落实·时限", 16, _five("deadline")),
    Column("五落实·预案", 36, _five("contingency_plan")),
    Column("整改状态", 14, lambda row: f"{_status(row)}（企业自改）" if row.self_fixed else _status(row)),
    Column("挂牌督办", 20, lambda row: (row.supervising_office or "是") if row.supervised else "否"),
    # The inspector who verified the rectification; a 自改 closure was closed by the enterprise itself.
    Column("复查人", 10, lambda row: None if row.self_fixed else row.closed_by_name),
    Column("复查时间", 17, lambda row: row.rechecked_at, is_time=True),
    Column("销号时间", 17, lambda row: row.closed_at, is_time=True),
    Column("行政处罚案件", 28, lambda row: _case(row, lambda c: c["number"] or "（未编号）")),
    Column("案件状态", 10, lambda row: _case(row, lambda c: CASE_STATUS_LABELS.get(c["status"], c["status"]))),
    Column("罚款金额（元）", 14, lambda row: _case(row, lambda c: float(c["amount"])), is_money=True),
    Column("隐患编号", 38, lambda row: str(row.id)),
)
HEADERS = [column.header for column in COLUMNS]


def export_select(clock: Clock, principal: Principal, filters: dict):
    """The ledger query — its joins, scope, filters, order and ``overdue`` — reading plain columns (no
    ORM objects per row), plus what the sheet shows beyond the list: credit code, grid, finder."""
    ledger = ledger_select(clock, principal, filters)
    finder = aliased(User)
    verifier = aliased(User)
    town = aliased(Region)
    return (
        ledger.with_only_columns(
            Hazard.id,
            Hazard.description,
            Hazard.level,
            Hazard.status,
            Hazard.source,
            Hazard.self_fixed,
            Hazard.found_at,
            Hazard.deadline,
            Hazard.responsible_person,
            Hazard.measures,
            Hazard.five,
            Hazard.supervised,
            Hazard.supervising_office,
            Hazard.rechecked_at,
            Hazard.closed_at,
            ledger.selected_columns.enterprise_name,
            ledger.selected_columns.industry,
            ledger.selected_columns.overdue,
            ledger.selected_columns.penalty_case,
            Enterprise.uscc.label("uscc"),
            # A hazard sits in a village (its town is the parent) or, without one, in the town itself.
            case((Region.level == "town", Region.name), else_=town.name).label("town_name"),
            case((Region.level == "village", Region.name), else_=None).label("village_name"),
            Grid.name.label("grid_name"),
            finder.name.label("found_by_name"),
            verifier.name.label("closed_by_name"),
            maintain_column_froms=False,
        )
        .outerjoin(Grid, Grid.id == Hazard.grid_id)
        .outerjoin(town, town.id == Region.parent_id)
        .outerjoin(finder, finder.id == Hazard.found_by)
        .outerjoin(verifier, verifier.id == Hazard.closed_by)
        .execution_options(yield_per=ROWS_PER_FETCH)
    )


def ledger_workbook(clock: Clock, principal: Principal, described_filters: dict | None = None) -> StreamedWorkbook:
    """The ledger's workbook, to be sent as its rows come (``chunks(ledger_rows(…))``)."""

    def lay_out(workbook, count: int | None) -> dict:
        sheet = workbook.add_worksheet(SHEET_TITLE)
        moment = workbook.add_format({"num_format": DATETIME_FORMAT})
        money = workbook.add_format({"num_format": "#,##0.00"})
        for index, column in enumerate(COLUMNS):
            # Times and money carry their format as the column's own: Excel keeps it for typed-in cells.
            sheet.set_column(
                index, index, column.width, moment if column.is_time else money if column.is_money else None
            )
        sheet.freeze_panes(1, 2)  # the header row and 序号/企业名称 stay in view
        sheet.repeat_rows(0)
        sheet.set_landscape()
        header = workbook.add_format(
            {
                "bold": True,
                "bg_color": "#DDEBF7",
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "border": 1,
                "border_color": "#999999",
            }
        )
        sheet.write_row(0, 0, HEADERS, header)
        sheet.autofilter(0, 0, count or 0, len(COLUMNS) - 1)

        about = workbook.add_worksheet("说明")
        about.set_column(0, 0, 14)
        about.set_column(1, 1, 60)
        for line, (key, value) in enumerate(
            (
                ("导出时间", _local(clock.now()).strftime("%Y-%m-%d %H:%M")),
                ("导出人", f"{principal.name}（{principal.username}）"),
                ("辖区", principal.region_code),
                ("隐患条数", count or 0),
                ("筛选条件", "；".join(f"{k}={v}" for k, v in (described_filters or {}).items()) or "无"),
            )
        ):
            about.write_row(line, 0, [key, value])
        workbook.set_properties({"title": SHEET_TITLE, "author": "安巡 AnXun", "created": _local(clock.now())})
        return {"moment": moment, "money": money}

    styles = ["moment" if column.is_time else "money" if column.is_money else None for column in COLUMNS]
    return StreamedWorkbook(lay_out, styles)


def ledger_rows(session: Session, clock: Clock, principal: Principal, filters: dict) -> Iterator[list]:
    """The ledger's rows as the sheet shows them, from a server-side cursor (a fetch at a time)."""
    for number, row in enumerate(session.execute(export_select(clock, principal, filters)), start=1):
        values = [column.value(row) for column in COLUMNS]
        values[0] = number
        for index, column in enumerate(COLUMNS):
            if column.is_time:
                values[index] = _local(values[index])
        yield values


def write_ledger(
    session: Session,
    clock: Clock,
    principal: Principal,
    filters: dict,
    out: IO[bytes],
    *,
    described_filters: dict | None = None,
) -> int:
    """Write the workbook to ``out``; returns the number of hazards in it."""
    workbook = ledger_workbook(clock, principal, described_filters)
    for chunk in workbook.chunks(ledger_rows(session, clock, principal, filters)):
        out.write(chunk)
    return workbook.count
