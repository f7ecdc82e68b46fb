"""The hazard ledger as .xlsx: opened with openpyxl, headers and rows as a safety office keeps them, the
same hazards as the ledger list with the same filters, and flat memory for long ledgers."""

from __future__ import annotations

import gc
import io
import tracemalloc
from datetime import datetime, timedelta, timezone

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select, text

from core.clock import SHANGHAI
from enterprises.models import Enterprise
from geo.models import Grid
from reports.ledger import HEADERS, write_ledger
from tests.jobs.conftest import FIVE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export(client, headers, **query):
    response = client.get("/api/v1/hazards/export.xlsx", headers=headers, query_string=query)
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == XLSX
    assert "Content-Length" not in response.headers  # streamed as it is written
    assert response.headers["Content-Disposition"].startswith('attachment; filename="_')
    assert "filename*=UTF-8''%E9%9A%90%E6%82%A3%E5%8F%B0%E8%B4%A6_" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def _rows(workbook):
    sheet = workbook["隐患台账"]
    return [dict(zip(HEADERS, row)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def _local(value: datetime) -> datetime:
    return value.astimezone(SHANGHAI).replace(tzinfo=None)


def test_the_workbook_has_the_ledger_headers_and_rows(client, login, session, clock, demo, make_hazard):
    overdue = make_hazard(deadline=clock.now() + timedelta(hours=1), description="消防通道堵塞")
    major = make_hazard(level="major", description="超量储存烟花爆竹")
    clock.advance(days=1)
    workbook = _export(client, login("desk"))

    sheet = workbook["隐患台账"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == HEADERS
    for required in (
        "序号",
        "企业名称",
        "统一社会信用代码",
        "行业",
        "所在网格",
        "隐患描述",
        "隐患等级",
        "发现时间",
        "发现人",
        "发现来源",
        "整改期限",
        "整改责任人",
        "整改措施",
        "整改状态",
        "复查时间",
        "销号时间",
    ):
        assert required in headers
    assert sheet.freeze_panes == "C2"
    description = get_column_letter(HEADERS.index("隐患描述") + 1)
    assert 48 <= sheet.column_dimensions[description].width < 49  # (Excel stores characters plus padding)
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(HEADERS))}{sheet.max_row}"
    assert [cell.value for cell in workbook["说明"]["A"]][:4] == ["导出时间", "导出人", "辖区", "隐患条数"]

    rows = _rows(workbook)
    assert [row["序号"] for row in rows] == [1, 2]
    by_id = {row["隐患编号"]: row for row in rows}
    first = by_id[str(overdue.id)]
    grid_name = session.scalar(select(Grid.name).where(Grid.id == demo.retailer.grid_id))
    assert first["企业名称"] == demo.retailer.name and first["统一社会信用代码"] == demo.retailer.uscc
    assert first["行业"] == "烟花爆竹" and first["所在网格"] == grid_name
    assert first["隐患描述"] == "消防通道堵塞" and first["隐患等级"] == "一般隐患"
    assert first["发现人"] == demo.users["inspector1"].name and first["发现来源"] == "执法检查"
    assert first["整改状态"] == "逾期未整改" and first["整改责任人"] == "企业负责人"
    assert first["挂牌督办"] == "否" and first["销号时间"] is None
    # Dates are dates (Beijing time), not text.
    assert first["发现时间"] == _local(overdue.found_at).replace(microsecond=0)
    assert first["整改期限"] == _local(overdue.deadline).replace(microsecond=0)
    row_number = [row["隐患编号"] for row in rows].index(str(overdue.id)) + 2
    found_cell = sheet.cell(row=row_number, column=HEADERS.index("发现时间") + 1)
    assert found_cell.is_date and found_cell.number_format == "yyyy-mm-dd hh:mm"
    second = by_id[str(major.id)]
    assert second["隐患等级"] == "重大事故隐患" and second["整改状态"] == "已登记" and second["整改期限"] is None


def test_text_from_phones_stays_text_in_the_workbook(client, login, demo, make_hazard):
    """A description typed on a phone must not turn into a formula, a link or a number in the desk
    officer's Excel (formula injection: a live =HYPERLINK or =cmd|… runs when the ledger is opened)."""
    typed = ['=HYPERLINK("http://example.com/x","点此查看整改通知")', "+1+1", "http://example.com/整改", "0012"]
    for text_ in typed:
        make_hazard(description=text_)
    sheet = _export(client, login("desk"))["隐患台账"]
    column = HEADERS.index("隐患描述") + 1
    cells = [sheet.cell(row=row, column=column) for row in range(2, sheet.max_row + 1)]
    assert sorted(cell.value for cell in cells) == sorted(typed)
    assert {cell.data_type for cell in cells} == {"s"} and not any(cell.hyperlink for cell in cells)


def test_the_export_and_the_ledger_list_agree_on_filters_and_scope(client, login, session, clock, demo, make_hazard):
    other = session.scalar(select(Enterprise).where(Enterprise.grid_id == demo.grid_of["gridworker3"]).limit(1))
    hazards = [
        make_hazard(deadline=clock.now() + timedelta(hours=1)),
        make_hazard(level="major"),
        make_hazard(other),
        make_hazard(other, level="major", deadline=clock.now() + timedelta(days=9)),
    ]
    clock.advance(hours=2)
    for username, query in (
        ("desk", {}),
        ("desk", {"level": "major"}),
        ("desk", {"overdue": "true"}),
        ("desk", {"region": demo.towns[1].code}),
        ("desk", {"status": "reported"}),
        ("gridworker1", {}),
        ("gridworker3", {}),
        ("enterprise1", {"level": "general"}),
    ):
        headers = login(username)
        listed = client.get(
            "/api/v1/hazards", headers=headers, query_string={**query, "sort": "found_at", "per_page": 500}
        ).get_json()
        exported = [row["隐患编号"] for row in _rows(_export(client, headers, **query))]
        assert exported == [item["id"] for item in listed["items"]], (username, query)
    assert len(_rows(_export(client, login("desk")))) == len(hazards)
    assert len(_rows(_export(client, login("gridworker3")))) == 2
    bad = client.get("/api/v1/hazards/export.xlsx", headers=login("desk"), query_string={"level": "severe"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "level"
    assert client.get("/api/v1/hazards/export.xlsx").status_code == 401


def test_the_ledger_has_the_town_the_five_implementations_and_the_verifier(
    client, login, session, clock, demo, make_hazard
):
    """乡镇、五落实（责任、措施、资金、时限、预案）and 复查人 are columns of the sheet."""
    major = make_hazard(level="major", deadline=clock.now() + timedelta(days=30))
    closed = make_hazard(description="已复查销号")
    closed.status, closed.closed_by = "closed", demo.users["inspector2"].id
    closed.closed_at = closed.rechecked_at = clock.now()
    session.flush()
    for header in ("乡镇（街道）", "五落实·责任", "五落实·措施", "五落实·资金", "五落实·时限", "五落实·预案", "复查人"):
        assert header in HEADERS
    rows = {row["隐患编号"]: row for row in _rows(_export(client, login("desk")))}
    town = next(
        t for t in demo.towns if any(v.parent_id == t.id and v.id == demo.retailer.region_id for v in demo.villages)
    )
    first = rows[str(major.id)]
    assert first["乡镇（街道）"] == town.name
    assert [first[f"五落实·{k}"] for k in ("责任", "措施", "资金", "时限", "预案")] == [
        FIVE["responsibility"],
        FIVE["measures"],
        FIVE["funds"],
        FIVE["deadline"],
        FIVE["contingency_plan"],
    ]
    assert first["复查人"] is None
    assert rows[str(closed.id)]["复查人"] == demo.users["inspector2"].name
    assert rows[str(closed.id)]["五落实·责任"] is None


def test_the_ledger_filters_by_found_time_grid_and_town(client, login, session, clock, demo, make_hazard):
    other = session.scalar(select(Enterprise).where(Enterprise.grid_id == demo.grid_of["gridworker3"]).limit(1))
    early = make_hazard(found_at=clock.now() - timedelta(days=3))
    late = make_hazard(found_at=clock.now() - timedelta(hours=1))
    elsewhere = make_hazard(other, found_at=clock.now() - timedelta(hours=2))
    desk = login("desk")
    cut = (clock.now() - timedelta(days=1)).isoformat()
    for query, expected in (
        ({"found_from": cut}, {late, elsewhere}),
        ({"found_to": cut}, {early}),
        ({"grid_id": str(demo.grid_of["gridworker3"])}, {elsewhere}),
        ({"region": demo.towns[1].code}, {elsewhere}),
        ({"found_from": cut, "grid_id": str(demo.retailer.grid_id)}, {late}),
    ):
        listed = client.get("/api/v1/hazards", headers=desk, query_string={**query, "per_page": 500}).get_json()
        assert {item["id"] for item in listed["items"]} == {str(h.id) for h in expected}, query
        exported = {row["隐患编号"] for row in _rows(_export(client, desk, **query))}
        assert exported == {str(h.id) for h in expected}, query
    bad = client.get("/api/v1/hazards", headers=desk, query_string={"found_from": "昨天"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "found_from"


def _bulk_hazards(session, demo, count: int) -> None:
    """``count`` hazards spread over the demo's enterprises, written by one INSERT … SELECT."""
    session.execute(
        text("""
        INSERT INTO hazards (id, enterprise_id, level, description, photos, status, source, found_at, found_by, deadline,
                             responsible_person, measures, region_id, grid_id, content_hash, created_at,
                             updated_at, version)
        SELECT gen_random_uuid(), e.id, CASE WHEN n % 10 = 0 THEN 'major' ELSE 'general' END,
               '批量隐患描述：灭火器压力不足，安全出口标识缺失，需要限期整改完毕 ' || n, '{}',
               CASE WHEN n % 3 = 0 THEN 'ordered' ELSE 'reported' END, 'inspection',
               :now - make_interval(mins => n), :by,
               CASE WHEN n % 3 = 0 THEN :now + make_interval(days => n % 20 - 10) END,
               CASE WHEN n % 3 = 0 THEN '企业负责人' END, CASE WHEN n % 3 = 0 THEN '限期整改' END,
               e.region_id, e.grid_id, md5(n::text) || md5(n::text), :now, :now, 1
          FROM generate_series(1, :count) AS n
          JOIN (SELECT id, region_id, grid_id, row_number() OVER (ORDER BY uscc) - 1 AS k FROM enterprises) e
            ON e.k = n % (SELECT count(*) FROM enterprises)"""),
        {"now": datetime(2026, 11, 20, tzinfo=timezone.utc), "by": demo.users["inspector1"].id, "count": count},
    )


def _peak_bytes(session, clock, principal, out) -> int:
    gc.collect()  # garbage left by earlier tests is not the ledger's
    tracemalloc.start()
    try:
        write_ledger(session, clock, principal, {"sort": "found_at"}, out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_ledger_is_written_with_flat_memory(session, clock, demo, principal_of, tmp_path, monkeypatch):
    """Three times the rows must not take anything like three times the memory: rows stream from a
    server-side cursor into the write-only sheet (a workbook held in memory grows with every cell).
    Small fetches, so that both ledgers span many of them (at most two are held at once)."""
    import reports.ledger

    monkeypatch.setattr(reports.ledger, "ROWS_PER_FETCH", 100)
    principal = principal_of("desk")
    _bulk_hazards(session, demo, 1000)
    with open(tmp_path / "warm-up.xlsx", "wb") as out:  # first-use caches (SQL compilation) count once
        write_ledger(session, clock, principal, {"sort": "found_at"}, out)
    with open(tmp_path / "small.xlsx", "wb") as out:
        small = _peak_bytes(session, clock, principal, out)
    _bulk_hazards(session, demo, 2000)
    with open(tmp_path / "large.xlsx", "wb") as out:
        large = _peak_bytes(session, clock, principal, out)
    # Held rows would make it ≈3×; what may grow is per-fetch noise and the zip directory.
    assert large < 2 * small, (small, large)
    sheet = load_workbook(tmp_path / "large.xlsx", read_only=True)["隐患台账"]
    assert sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True)) == 3000
