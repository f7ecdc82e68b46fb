"""Spreadsheets people upload (xlsx): what every import shares, whatever its rows mean.

The file is judged before openpyxl opens it — its size, and the unpacked size of the zip it is (a bomb of
a few kilobytes would otherwise inflate to gigabytes) — and refused with 413. The header is found among
the first rows by its Chinese titles under the spellings counties use (brackets full or half width,
stars marking required columns, spaces anywhere), columns in any order; cells are read as the text a
person typed (a phone typed as a number loses no digit and gains no ``.0``); blank rows are skipped.
Every problem is a :class:`RowError` — Excel's row number, the column's title, a stable code and a
reason in Chinese — and an import with any refuses all of its rows at once (:func:`refusal`).

What the columns are and what a row must be is the importing package's: a :class:`Layout` names its
columns, its error codes' prefix and its own exception classes (``personnel.roster``,
``enterprises.imports``). :func:`template_xlsx` writes the blank workbook a person fills in."""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from core.errors import DomainError, FieldError, TooLarge, ValidationFailed
from core.inputs import bad_text

MAX_ROWS = 10_000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # an xlsx is a zip: refuse a bomb before openpyxl inflates it
HEADER_SEARCH_ROWS = 20
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff]")


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # as errors and the template name it
    spellings: tuple[str, ...] = ()  # other headers met in county sheets
    required: bool = False  # the header must have it (whether a cell may be blank is the row check's)
    max_length: int = 100
    note: str = ""  # what to write, for the template


@dataclass(frozen=True)
class Layout:
    """One kind of sheet: its columns, the prefix of its error codes (``roster`` → ``roster.empty``), the
    noun people call it (花名册), and the errors it raises."""

    code: str
    noun: str
    columns: tuple[Column, ...]
    anchor: str  # the header is the first row holding this column and one more
    header_hint: str  # said when no header is found: which columns it should have
    unreadable: type[ValidationFailed]
    too_large: type[TooLarge]
    max_rows: int = MAX_ROWS
    max_file_bytes: int = MAX_FILE_BYTES
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES

    def title(self, key: str) -> str:
        return self._by_key()[key].title

    def _by_key(self) -> dict[str, Column]:
        return {c.key: c for c in self.columns}

    def aliases(self) -> dict[str, str]:
        """Header text (compared as :func:`header_key` makes it) → column key."""
        return {
            header_key(spelling): column.key
            for column in self.columns
            for spelling in (column.title, *column.spellings)
        }


@dataclass(frozen=True)
class RowError:
    row: int  # the row number Excel shows
    column: str | None  # the column title (姓名 …), None for the row or file as a whole
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class SheetRow:
    row: int  # the row number Excel shows
    cells: dict[str, str]  # column key → the cell as text ("" when blank or when the sheet has no such column)

    def __getitem__(self, key: str) -> str:
        return self.cells.get(key, "")


@dataclass
class Sheet:
    header_row: int | None = None
    columns: dict[str, int] = field(default_factory=dict)  # column key → position (0-based) in the sheet
    rows: list[SheetRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # problems of the file as a whole


class Progress:
    """What an import tells as it goes (the CLI draws bars from it); by default nothing."""

    def begin(self, stage: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


# --- reading ------------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as the text a person typed: numbers without a trailing .0 (a phone typed as a number),
    dates as ISO dates, blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    text = str(value).replace("\u3000", " ").replace("\xa0", " ")
    return _INVISIBLE.sub("", text).strip()


def header_key(text: str) -> str:
    """A header as compared: no spaces, no leading star (required-column marks), ASCII brackets and slash."""
    return re.sub(r"\s+", "", text).lstrip("*＊").translate(str.maketrans("（）／", "()/"))


def check_file(layout: Layout, data: bytes) -> None:
    """413 (``layout.too_large``) for a file or an unpacked zip past the limits, before anything parses it."""
    if len(data) > layout.max_file_bytes:
        raise layout.too_large(f"{layout.noun}文件不能超过 {layout.max_file_bytes // (1024 * 1024)} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as err:  # not a zip at all: no xlsx either
        raise _unreadable(layout) from err
    if unpacked > layout.max_unpacked_bytes:
        raise layout.too_large(f"{layout.noun}解压后过大")


def _unreadable(layout: Layout) -> ValidationFailed:
    return layout.unreadable("文件不是有效的 xlsx 工作簿（请用 Excel 或 WPS 另存为 .xlsx）")


def read_sheet(layout: Layout, data: bytes) -> Sheet:
    """The data rows of the first sheet (blank rows skipped), keyed by column, and the problems of the file
    as a whole (no header, a required column missing, too many rows)."""
    check_file(layout, data)
    sheet = Sheet()
    try:
        rows = _sheet_rows(layout, data)
        sheet.header_row, sheet.columns = _find_header(layout, rows)
    except Exception as err:  # whatever a damaged or foreign file makes openpyxl raise, it is the file's fault
        raise _unreadable(layout) from err
    if sheet.header_row is None:
        sheet.errors = [RowError(1, None, f"{layout.code}.no_header", layout.header_hint)]
        return sheet
    missing = [c for c in layout.columns if c.required and c.key not in sheet.columns]
    if missing:
        sheet.errors = [
            RowError(sheet.header_row, c.title, f"{layout.code}.missing_column", f"表头缺少“{c.title}”列")
            for c in missing
        ]
        return sheet
    for number, cells in rows[sheet.header_row :]:
        texts = {key: cell_text(cells[index]) if index < len(cells) else "" for key, index in sheet.columns.items()}
        if not any(texts.values()):
            continue
        if len(sheet.rows) >= layout.max_rows:
            sheet.errors.append(
                RowError(
                    number, None, f"{layout.code}.too_many_rows", f"{layout.noun}最多 {layout.max_rows} 行，请分批导入"
                )
            )
            break
        sheet.rows.append(SheetRow(number, texts))
    return sheet


def _sheet_rows(layout: Layout, data: bytes) -> list[tuple[int, tuple]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for cells in sheet.iter_rows():
            cells = tuple(cells)
            number = next((getattr(c, "row", None) for c in cells if getattr(c, "row", None)), None)
            rows.append((number, tuple(getattr(c, "value", None) for c in cells)))
            if len(rows) > layout.max_rows * 2 + HEADER_SEARCH_ROWS:
                break  # blank rows past the limit are not read; the row count reports the rest
        # A read-only sheet gives no number to a row of empty cells: it follows the one before.
        numbered, last = [], 0
        for number, values_ in rows:
            last = number if number else last + 1
            numbered.append((last, values_))
        return numbered
    finally:
        workbook.close()


def _find_header(layout: Layout, rows) -> tuple[int | None, dict[str, int]]:
    aliases = layout.aliases()
    for position, (number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for index, value in enumerate(cells):
            key = aliases.get(header_key(cell_text(value)))
            if key and key not in columns:
                columns[key] = index
        if layout.anchor in columns and len(columns) >= 2:
            return position + 1, columns
    return None, {}


# --- checking -----------------------------------------------------------------------------------


def text_errors(layout: Layout, row: SheetRow) -> list[RowError]:
    """Cells that cannot be stored (NUL, lone surrogates) or are longer than their column allows."""
    errors = []
    for column in layout.columns:
        text = row[column.key]
        if bad_text(text):
            errors.append(RowError(row.row, column.title, f"{layout.code}.bad_text", "含有无法保存的字符"))
        elif len(text) > column.max_length:
            errors.append(
                RowError(row.row, column.title, f"{layout.code}.too_long", f"不能超过 {column.max_length} 个字")
            )
    return errors


def blank_errors(layout: Layout, row: SheetRow, keys, *, already: set[str | None] = frozenset()) -> list[RowError]:
    """``{prefix}.{key}_missing`` for each of ``keys`` left blank, unless its column has a problem already."""
    return [
        RowError(row.row, layout.title(key), f"{layout.code}.{key}_missing", f"{layout.title(key)}为空")
        for key in keys
        if not row[key] and layout.title(key) not in already
    ]


def in_reading_order(layout: Layout, errors) -> list[RowError]:
    """Each error once; row by row, and within a row the columns in the layout's order."""
    titles = [c.title for c in layout.columns]
    return sorted(
        set(errors), key=lambda e: (e.row, titles.index(e.column) if e.column in titles else -1, e.code, e.message)
    )


def refusal(error_class: type[DomainError], errors: list[RowError], detail: str, report: dict) -> DomainError:
    """The error an import with bad rows raises: one FieldError per row error (``rows.<row>.<column>``),
    and the whole report (``report``) for clients that show a table."""
    return error_class(
        detail,
        errors=[
            FieldError(
                e.code,
                f"rows.{e.row}" + (f".{e.column}" if e.column else ""),
                f"第 {e.row} 行" + (f"“{e.column}”" if e.column else "") + f"：{e.message}",
            )
            for e in errors
        ],
        extra={"report": report},
    )


def rows_with_errors(errors: list[RowError]) -> int:
    return len({e.row for e in errors})


# --- the blank workbook -------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A column whose cells should be one of ``values``: the template offers them as a drop-down."""

    key: str
    values: tuple[str, ...]


def template_xlsx(
    layout: Layout,
    *,
    sheet_name: str,
    keys: tuple[str, ...],
    notes: list[str],
    choices: tuple[Choice, ...] = (),
    widths: dict[str, int] | None = None,
    marked: tuple[str, ...] = (),
) -> bytes:
    """The workbook a person fills in: the first sheet holds the header (``keys`` in order, required
    columns — and ``marked`` ones, required by the row check though the header may do without — marked with *,
    each column's note as a comment on its header) and drop-downs for ``choices``;
    a second sheet 填写说明 holds ``notes`` and the lists the drop-downs take their values from."""
    import xlsxwriter
    from xlsxwriter.utility import xl_col_to_name

    by_key = layout._by_key()
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    required = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_color": "#C00000", "text_wrap": True}
    )
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet(sheet_name)
    guide = book.add_worksheet("填写说明")
    guide.set_column(0, 0, 100)
    for line, note in enumerate(notes):
        guide.write_string(line, 0, note)
    list_row = len(notes) + 1
    lists = {}
    for offset, choice in enumerate(choices):
        column = offset + 1
        guide.write_string(list_row, column, by_key[choice.key].title)
        for n, value in enumerate(choice.values, 1):
            guide.write_string(list_row + n, column, value)
        letter = xl_col_to_name(column)
        lists[choice.key] = f"='填写说明'!${letter}${list_row + 2}:${letter}${list_row + 1 + len(choice.values)}"
    for index, key in enumerate(keys):
        column = by_key[key]
        must = column.required or key in marked
        sheet.write_string(0, index, ("*" if must else "") + column.title, required if must else head)
        sheet.set_column(index, index, (widths or {}).get(key, max(10, len(column.title) * 2 + 4)), text)
        if column.note:
            sheet.write_comment(0, index, column.note, {"x_scale": 2, "y_scale": 1.5})
        if key in lists:
            sheet.data_validation(
                1,
                index,
                layout.max_rows,
                index,
                {
                    "validate": "list",
                    "source": lists[key],
                    "error_type": "warning",
                    "error_title": column.title,
                    "error_message": f"请从列表中选择{column.title}",
                },
            )
    sheet.freeze_panes(1, 0)
    sheet.set_row(0, 30)
    book.close()
    return out.getvalue()
