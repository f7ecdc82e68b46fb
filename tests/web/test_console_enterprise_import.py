"""The enterprise import in the desk console (一企一档 → 导入) in Chromium at 1440×900 against the real server:
the template downloads, a list with one bad row is checked and the row shown with its reason, the fixed file
checked and imported, the new enterprise found in the list and on the map, and the grid worker's next pull
brings it. The dialog is photographed into docs/screens."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from playwright.sync_api import expect

from geo.coords import wgs84_to_gcj02
from tests.enterprises.lists import list_xlsx, row, uscc
from tests.web.conftest import query, screenshot
from tests.web.test_console import XLSX, Desk, desk  # noqa: F401  (fixture)


def _inside(server, code: str) -> tuple[float, float]:
    """A point inside the village with this code, as a 高德 map (GCJ-02) shows it."""
    [(lon, lat)] = query(
        server,
        "SELECT ST_X(ST_PointOnSurface(geometry)), ST_Y(ST_PointOnSurface(geometry)) FROM regions WHERE code = :code",
        code=code,
    )
    return wgs84_to_gcj02(lon, lat)


def _upload(page, name: str, data: bytes):
    page.locator("input[data-test=enterprise-import-file]").set_input_files(
        {"name": name, "mimeType": XLSX, "buffer": data}
    )


def _pull_all(desk: Desk, username: str) -> dict:
    """Every record a phone of ``username`` gets by following the pull to its end: {(entity, id): data}."""
    records, cursor = {}, None
    while True:
        answer = desk.api(
            "GET", "/sync/pull", username=username, params={"limit": 500, **({"cursor": cursor} if cursor else {})}
        )
        for change in answer["changes"]:
            if change["op"] == "delete":
                records.pop((change["entity"], change["id"]), None)
            else:
                records[(change["entity"], change["id"])] = change["data"]
        cursor = answer["cursor"]
        if not answer["has_more"]:
            return records


def test_a_list_with_one_bad_row_is_shown_fixed_imported_and_reaches_the_grid_worker(desk):
    page = desk.page
    town = desk.towns()[0]
    # gridworker1's grid is the first village's (the demo's), the second village is next door.
    first, second = town["children"][0], town["children"][1]
    here, there = _inside(desk.server, first["code"]), _inside(desk.server, second["code"])
    grid = desk.api("GET", "/enterprises", username="gridworker1", params={"per_page": 1})["items"][0]["grid_id"]
    before = _pull_all(desk, "gridworker1")
    names = ["石桥烟花零售点", "石桥加油站", "石桥农家乐"]
    good = [
        row(501, town["name"], first["name"], here, 企业名称=names[0]),
        row(502, town["name"], first["name"], here, 企业名称=names[1], 行业="危险化学品", 子类="加油站", 风险等级="橙"),
        row(503, town["name"], first["name"], here, 企业名称=names[2], 行业="燃气", 子类="餐饮", 风险等级="蓝"),
    ]
    # The third row's point lies in the neighbouring village, not in the one it names.
    bad = good[:2] + [
        row(503, town["name"], first["name"], there, 企业名称=names[2], 行业="燃气", 子类="餐饮", 风险等级="蓝")
    ]

    desk.sign_in()
    desk.go("一企一档")
    expect(page.locator(".el-table__row").first).to_be_visible()
    page.get_by_role("button", name="导入", exact=True).click()
    dialog = page.get_by_role("dialog", name="导入企业名单（一企一档）")
    with page.expect_download() as download:
        dialog.get_by_role("button", name="下载模板", exact=True).click()
    template = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert download.value.suggested_filename == "企业名单导入模板.xlsx"
    assert template.worksheets[0]["A1"].value == "*企业名称"

    _upload(page, "企业名单.xlsx", list_xlsx(bad))
    dialog.get_by_role("button", name="检查", exact=True).click()
    errors = dialog.locator(".enterprise-import-errors .el-table__row")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("4")
    expect(errors.first).to_contain_text("经纬度")
    expect(errors.first).to_contain_text(f"不在“{town['name']}{first['name']}”内")
    expect(errors.first).to_contain_text(second["name"])
    expect(dialog.get_by_role("button", name="导入", exact=True)).to_be_disabled()
    screenshot(page, "console-enterprise-import-errors")
    assert desk.api("GET", "/enterprises", params={"q": names[2]})["total"] == 0  # a dry run writes nothing

    _upload(page, "企业名单（改正）.xlsx", list_xlsx(good))
    dialog.get_by_role("button", name="检查", exact=True).click()
    expect(dialog.get_by_text("检查通过：共 3 行，可以导入")).to_be_visible()
    expect(dialog.locator(".enterprise-import-items .el-table__row")).to_have_count(3)
    dialog.get_by_role("button", name="导入", exact=True).click()
    expect(dialog.get_by_text("已导入 3 行：新登记 3 家")).to_be_visible()
    expect(dialog.locator(".enterprise-import-items .el-table__row").first).to_contain_text(first["name"])
    screenshot(page, "console-enterprise-import-done")
    dialog.get_by_role("button", name="完成", exact=True).click()
    expect(dialog).to_be_hidden()

    # In the list, and on the map where it stands.
    page.get_by_placeholder("企业名称或统一社会信用代码").fill(names[2])
    page.get_by_role("button", name="查询", exact=True).click()
    found = page.locator(".el-table__row", has_text=names[2])
    expect(found).to_have_count(1)
    expect(found).to_contain_text(uscc(503))
    found.get_by_role("button", name="编辑/定位", exact=True).click()
    edit = page.get_by_role("dialog", name=f"编辑 {names[2]}")
    expect(edit.locator(".place-map path.leaflet-interactive")).to_have_count(1)  # the enterprise's point
    expect(edit.locator(".place-map path:not(.leaflet-interactive)").first).to_be_attached()  # its village's boundary
    screenshot(page, "console-enterprise-import-map")
    made = desk.api("GET", "/enterprises", params={"q": names[2]})["items"][0]
    assert made["region_code"] == first["code"] and made["grid_id"] == grid

    # The grid worker's next pull brings the three new enterprises of their grid.
    after = _pull_all(desk, "gridworker1")
    new = {data["name"] for key, data in after.items() if key[0] == "enterprise" and key not in before}
    assert new == set(names)
    assert desk.errors == []
