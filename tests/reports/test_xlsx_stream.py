"""The streamed workbook (reports.xlsx_stream): bytes leave before the rows are read and while they
are, and what Excel (here openpyxl) reads back is what XlsxWriter's own writer would have stored —
for any text a phone may send, any time and any amount."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal

import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from reports.xlsx_stream import WORKBOOK_OPTIONS, StreamedWorkbook

STYLES = [None, "moment", "money"]


def _lay_out(workbook, count):
    sheet = workbook.add_worksheet("表")
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    sheet.set_column(1, 1, 17, moment)
    sheet.set_column(2, 2, 12, money)
    sheet.write_row(0, 0, ["文字", "时间", "金额"])
    sheet.autofilter(0, 0, count or 0, 2)
    workbook.add_worksheet("说明").write_row(0, 0, ["条数", count or 0])
    return {"moment": moment, "money": money}


def _streamed(rows) -> tuple[bytes, StreamedWorkbook]:
    workbook = StreamedWorkbook(_lay_out, STYLES)
    return b"".join(workbook.chunks(rows)), workbook


def _by_xlsxwriter(rows) -> bytes:
    """The same rows through XlsxWriter's own (non-streaming) writer: the reference."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    formats = _lay_out(workbook, len(rows))
    sheet = workbook.worksheets()[0]
    for number, row in enumerate(rows, start=1):
        for column, (value, style) in enumerate(zip(row, STYLES)):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(number, column, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(number, column, value, formats[style])
            else:
                sheet.write_number(number, column, value, formats[style] if style else None)
    workbook.close()
    return out.getvalue()


def _cells(data: bytes) -> list[tuple]:
    return [tuple(row) for row in load_workbook(io.BytesIO(data))["表"].iter_rows(values_only=True)]


texts = st.one_of(
    st.none(),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.sampled_from(['=HYPERLINK("http://x")', "_x0041_", " 前后空格 ", "a&b<c>d", "0012", "\t\n\r", "\x00\x1f\ufffe"]),
)
times = st.one_of(st.none(), st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
amounts = st.one_of(
    st.none(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9, places=2),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(texts, times, amounts), max_size=12))
def test_any_rows_read_back_as_xlsxwriter_would_have_stored_them(rows):
    rows = [list(row) for row in rows]
    streamed, workbook = _streamed(rows)
    reference = _by_xlsxwriter([[float(v) if isinstance(v, Decimal) else v for v in row] for row in rows])
    assert workbook.count == len(rows)
    assert zipfile.ZipFile(io.BytesIO(streamed)).testzip() is None
    assert _cells(streamed) == _cells(reference)


def test_the_parts_that_count_the_rows_are_laid_out_after_them():
    rows = [["甲", datetime(2026, 12, 5, 9, 30), 200], ["乙", None, Decimal("1234.50")]]
    data, _ = _streamed(rows)
    book = load_workbook(io.BytesIO(data))
    assert book["表"].auto_filter.ref == "A1:C3"
    assert book["说明"]["B1"].value == 2
    assert book["表"]["B2"].number_format == "yyyy-mm-dd hh:mm" and book["表"]["B2"].value == datetime(
        2026, 12, 5, 9, 30
    )
    assert book["表"]["C3"].number_format == "#,##0.00" and book["表"]["C3"].value == 1234.5


def test_bytes_leave_before_the_first_row_is_read_and_while_rows_are_read():
    read = 0

    def rows():
        nonlocal read
        for number in range(20_000):
            read += 1
            yield [f"第 {number} 行：灭火器压力不足，安全出口标识缺失", datetime(2026, 12, 5), number]

    chunks = StreamedWorkbook(_lay_out, STYLES).chunks(rows())
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04") and read == 0
    read_when_sent = [read]
    for _chunk in chunks:
        read_when_sent.append(read)
    # Many chunks went out while rows were still coming, not all of them after the last row.
    assert sum(1 for seen in read_when_sent if 0 < seen < 20_000) >= 10, read_when_sent[:20]
