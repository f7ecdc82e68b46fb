"""The hazard ledger (隐患台账) as an Excel workbook, the way a safety office keeps it.

Rows come from ``inspections.hazards.ledger_select`` — the very query of ``GET /hazards`` with the same
filters and scope — read through a server-side cursor and written by openpyxl's write-only worksheet,
which sends each row to a temporary file at once: memory stays flat however long the ledger."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Callable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from accounts.principal import Principal
from checklists.definition import INDUSTRIES
from core.clock import SHANGHAI, Clock
from enterprises.models import Enterprise
from geo.models import Grid, Region
from inspections.hazards import ledger_select
from inspections.models import Hazard

LEVEL_LABELS = {"general": "一般隐患", "major": "重大事故隐患"}
STATUS_LABELS = {"reported": "已登记", "ordered": "整改中", "submitted": "整改完成待复查", "closed": "已销号"}
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


def _local(value: datetime | None):
    """Excel has no time zones: times are written as Beijing time."""
    return value.astimezone(SHANGHAI).replace(tzinfo=None) if value else None


def _status(row) -> str:
    return OVERDUE_LABEL if row.overdue else STATUS_LABELS.get(row.status, row.status)


COLUMNS: tuple[Column, ...] = (
    Column("序号", 6, lambda row: None),  # filled with the running number
    Column("企业名称", 30, lambda row: row.enterprise_name),
    Column("统一社会信用代码", 22, lambda row: row.uscc),
    Column("行业", 12, lambda row: INDUSTRIES[row.industry].title if row.industry in INDUSTRIES else row.industry),
    Column("所在村（社区）", 14, lambda row: row.village_name),
    Column("所在网格", 16, lambda row: row.grid_name),
    Column("隐患描述", 48, lambda row: row.description),
    Column("隐患等级", 13, lambda row: LEVEL_LABELS.get(row.level, row.level)),
    Column("发现时间", 17, lambda row: row.found_at, is_time=True),
    Column("发现人", 10, lambda row: row.found_by_name),
    Column("整改期限", 17, lambda row: row.deadline, is_time=True),
    Column("整改责任人", 12, lambda row: row.responsible_person),
    Column("整改措施", 36, lambda row: row.measures),
    Column("整改状态", 14, _status),
    Column("挂牌督办", 20, lambda row: (row.supervising_office or "是") if row.supervised else "否"),
    Column("复查时间", 17, lambda row: row.rechecked_at, is_time=True),
    Column("销号时间", 17, lambda row: row.closed_at, is_time=True),
    Column("隐患编号", 38, lambda row: str(row.id)),
)
HEADERS = [column.header for column in COLUMNS]


def export_select(clock: Clock, principal: Principal, filters: dict):
    """The ledger query — its joins, scope, filters, order and ``overdue`` — reading plain columns (no
    ORM objects per row), plus what the sheet shows beyond the list: credit code, grid, finder."""
    ledger = ledger_select(clock, principal, filters)
    finder = aliased(User)
    return (ledger.with_only_columns(
                Hazard.id, Hazard.description, Hazard.level, Hazard.status, Hazard.found_at, Hazard.deadline,
                Hazard.responsible_person, Hazard.measures, Hazard.supervised, Hazard.supervising_office,
                Hazard.rechecked_at, Hazard.closed_at, ledger.selected_columns.enterprise_name,
                ledger.selected_columns.industry, ledger.selected_columns.overdue,
                Enterprise.uscc.label("uscc"), Region.name.label("village_name"), Grid.name.label("grid_name"),
                finder.name.label("found_by_name"), maintain_column_froms=False)
            .outerjoin(Grid, Grid.id == Hazard.grid_id)
            .outerjoin(finder, finder.id == Hazard.found_by)
            .execution_options(yield_per=ROWS_PER_FETCH))


def _header_cells(sheet) -> list:
    thin = Side(style="thin", color="999999")
    cells = []
    for header in HEADERS:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        cells.append(cell)
    return cells


def write_ledger(session: Session, clock: Clock, principal: Principal, filters: dict, out: IO[bytes], *,
                 described_filters: dict | None = None) -> int:
    """Write the workbook to ``out``; returns the number of hazards in it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    # Column widths, panes and print titles must be set before the first row is written.
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "C2"  # the header row and 序号/企业名称 stay in view
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.append(_header_cells(sheet))

    # One styled cell per time column, refilled row by row: append() writes a row out before it returns.
    time_cells = {}
    for index, column in enumerate(COLUMNS):
        if column.is_time:
            time_cells[index] = WriteOnlyCell(sheet)
            time_cells[index].number_format = DATETIME_FORMAT
    count = 0
    for row in session.execute(export_select(clock, principal, filters)):
        count += 1
        values = [column.value(row) for column in COLUMNS]
        values[0] = count
        for index, cell in time_cells.items():
            if values[index] is not None:
                cell.value = _local(values[index])
                values[index] = cell
        sheet.append(values)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"

    about = workbook.create_sheet("说明")
    about.column_dimensions["A"].width = 14
    about.column_dimensions["B"].width = 60
    for key, value in (("导出时间", _local(clock.now()).strftime("%Y-%m-%d %H:%M")),
                       ("导出人", f"{principal.name}（{principal.username}）"),
                       ("辖区", principal.region_code),
                       ("隐患条数", count),
                       ("筛选条件", "；".join(f"{k}={v}" for k, v in (described_filters or {}).items()) or "无")):
        about.append([key, value])
    workbook.properties.title = SHEET_TITLE
    workbook.properties.creator = "安巡 AnXun"
    workbook.save(out)
    return count
