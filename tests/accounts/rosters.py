"""Roster workbooks (网格员花名册) for the tests, written with openpyxl as a county's Excel would be."""

from __future__ import annotations

import io

from openpyxl import Workbook

HEADER = ("姓名", "手机号", "乡镇", "村/社区", "网格")


def roster_xlsx(rows, header=HEADER, title_rows=()) -> bytes:
    """An xlsx whose first sheet has ``title_rows`` (e.g. a title line), the header, then ``rows``."""
    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    for line in title_rows:
        sheet.append(list(line))
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def phone(n: int) -> str:
    """The n-th test phone number (139 plus 8 digits), none of them the demo's."""
    return f"139{n:08d}"
