"""An xlsx sent while it is written: the first byte leaves at once and memory stays flat, however
many rows.

XlsxWriter lays the workbook out — sheets, column widths and formats, frozen panes, the first sheet's
header row — with no data rows; the rows of the first sheet are then written into its ``<sheetData>``
as XlsxWriter itself writes them in constant-memory mode (inline strings), and zipstream-ng deflates
every part into the answer as it comes. What depends on the number of rows (the autofilter's range,
a count shown on another sheet) is laid out again once the rows are done, and those parts are sent
last: a zip's parts may come in any order, its directory at the end says where each is."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable, Iterable, Iterator

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from zipstream import ZIP_DEFLATED, ZipStream

FIRST_SHEET = "xl/worksheets/sheet1.xml"
# Parts that never depend on the rows, sent before them so that the answer starts at once
# (and [Content_Types].xml first, where file-type sniffers look).
LEADING_PARTS = ("[Content_Types].xml", "_rels/.rels")
WORKBOOK_OPTIONS = {
    "constant_memory": True,  # inline strings, as the streamed rows are: no shared-string table to keep
    # Text from phones is text: "=HYPERLINK(…)" in a description must not become a live formula in
    # the desk officer's Excel, nor "http://…" a link, nor "0012" the number 12.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

# XML 1.0 cannot carry these; Excel writes them as _xHHHH_ (and a literal "_xHHHH_" with its
# underscore escaped), as XlsxWriter does.
_LITERAL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("([\x00-\x08\x0b-\x1f\ufffe\uffff])")  # \r too: XML readers would make it \n
_NEEDS_WORK = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_EDGE_SPACE = re.compile(r"^\s|\s$")
# Excel's day 0 for every date after February 1900 (its 1900 leap-day bug is before that).
_EXCEL_EPOCH = datetime(1899, 12, 30)
_DAY = timedelta(days=1)

# lay_out(workbook, count) -> the formats the streamed rows use, by name. ``count`` is None before
# the rows and their number after.
LayOut = Callable[[xlsxwriter.Workbook, int | None], dict[str, Format]]


def escape_text(value: str) -> str:
    if not _NEEDS_WORK.search(value):
        return value
    value = _LITERAL_ESCAPE.sub(r"_x005F\1", value)
    value = _CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _parts(lay_out: LayOut, count: int | None) -> tuple[dict[str, bytes], dict[str, Format]]:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    formats = lay_out(workbook, count)
    workbook.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}, formats


def _split_first_sheet(xml: bytes) -> tuple[bytes, bytes]:
    """The first sheet around the end of its rows; the head without its ``<dimension>``, which would
    name only the header row (it is optional: readers find the cells)."""
    head, end, tail = xml.partition(b"</sheetData>")
    if not end:
        raise ValueError("the laid-out first sheet has no <sheetData> (write its header row)")
    return re.sub(rb"<dimension ref=\"[^\"]*\"/>", b"", head, count=1), end + tail


class StreamedWorkbook:
    """``chunks(rows)`` yields the xlsx; ``count`` is the number of rows once they are all sent.

    A row is a list of cell values by column: None (empty), str, datetime (local, naive: Excel has no
    zones), int, float or Decimal. ``styles`` names, by column, a format ``lay_out`` returns (or None)."""

    def __init__(self, lay_out: LayOut, styles: list[str | None], *, first_row: int = 1, compress_level: int = 1):
        self.lay_out = lay_out
        self.styles = styles
        self.first_row = first_row
        self.compress_level = compress_level
        self.count = 0
        self._head = b""
        self._final: dict[str, bytes] = {}

    def chunks(self, rows: Iterable[list]) -> Iterator[bytes]:
        parts, formats = _parts(self.lay_out, None)
        self._head, _ = _split_first_sheet(parts[FIRST_SHEET])
        style_ids = [formats[name].xf_index if name else None for name in self.styles]
        if any(style is None for style, name in zip(style_ids, self.styles) if name):
            raise ValueError("every format the rows use must be in use in the layout (e.g. as a column's format)")
        stream = ZipStream(compress_type=ZIP_DEFLATED, compress_level=self.compress_level)
        for name in LEADING_PARTS:
            stream.add(parts[name], name)
        stream.add(self._first_sheet(rows, style_ids), FIRST_SHEET)
        for name in parts:
            if name not in LEADING_PARTS and name != FIRST_SHEET:
                stream.add(self._part_after_rows(name), name)
        yield from stream

    def _part_after_rows(self, name: str) -> Iterator[bytes]:
        """A generator: zipstream runs it when it gets to the part, after the rows."""
        yield self._after_rows()[name]

    def _after_rows(self) -> dict[str, bytes]:
        """The parts laid out again with the number of rows known."""
        if not self._final:
            final, _ = _parts(self.lay_out, self.count)
            if _split_first_sheet(final[FIRST_SHEET])[0] != self._head:
                raise ValueError("the layout's first sheet may depend on the number of rows only after its rows")
            self._final = final
        return self._final

    def _first_sheet(self, rows: Iterable[list], style_ids: list[int | None]) -> Iterator[bytes]:
        yield self._head
        letters = [xl_col_to_name(index) for index in range(len(self.styles))]
        styled = [f' s="{style}"' if style is not None else "" for style in style_ids]
        buffer: list[str] = []
        number = self.first_row
        for row in rows:
            number += 1
            self.count += 1
            cells = []
            for letter, style, value in zip(letters, styled, row):
                if value is None:
                    continue
                ref = f"{letter}{number}"
                if isinstance(value, str):
                    space = ' xml:space="preserve"' if _EDGE_SPACE.search(value) else ""
                    cells.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape_text(value)}</t></is></c>')
                else:
                    if isinstance(value, datetime):
                        value = (value - _EXCEL_EPOCH) / _DAY
                    elif isinstance(value, Decimal):
                        value = float(value)
                    cells.append(f'<c r="{ref}"{style}><v>{value:.16G}</v></c>')
            buffer.append(f'<row r="{number}">{"".join(cells)}</row>')
            if len(buffer) >= 200:  # a deflate call per few hundred rows, not per row
                yield "".join(buffer).encode()
                buffer.clear()
        if buffer:
            yield "".join(buffer).encode()
        yield _split_first_sheet(self._after_rows()[FIRST_SHEET])[1]
