"""The desk console (/console/) in Chromium at 1440×900 against the real server and PostGIS (issue 19):
a desk officer imports a roster with one bad row (sees it, fixes it, imports), draws a grid and assigns a
new worker who then logs in and sees it, has a polygon outside the town refused with the reason on the
map, merges two village grids retiring the old ones (no overlap left), filters the ledger and downloads
it as xlsx; a 5,000-row roster goes through the page. Each screen is photographed into docs/screens."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.accounts.rosters import phone, roster_xlsx
from tests.web.conftest import screenshot

DESKTOP = {"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
DISTRICT = "500299000000"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SLOW = 120_000  # ms: a long roster is hashed and written in one transaction


class Desk:
    """A desktop browser context signed in to the console as the demo's desk officer, with the console
    errors it saw, and an API client of its own (Playwright's request context) for setting up and checking."""

    def __init__(self, browser, server):
        self.server = server
        self.context = browser.new_context(**DESKTOP, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        # A refused request is the console's business (shown in Chinese); Chromium logs each as an error.
        self.page.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and not msg.text.startswith("Failed to load resource")
                and self.errors.append(f"console: {msg.text}")
            ),
        )
        self.page.on("pageerror", lambda exc: self.errors.append(f"page: {exc}"))
        self.page.set_default_timeout(30_000)
        self.tokens: dict[str, str] = {}

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    def sign_in(self, username: str = "desk", password: str = "anxun-demo"):
        page = self.page
        page.goto(self.url("/console/"))
        page.get_by_text("安巡 内勤工作台").first.wait_for()
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        page.locator(".console-header h2").wait_for()

    def go(self, menu: str):
        self.page.locator(".el-menu-item", has_text=menu).click()
        expect(self.page.locator(".console-header h2")).to_have_text(menu)

    def token(self, username: str, password: str = "anxun-demo") -> str:
        answer = self.context.request.post(
            self.url("/api/v1/auth/login"),
            data={"username": username, "password": password, "device": {"id": f"console-test-{uuid.uuid4().hex[:8]}"}},
        )
        assert answer.ok, answer.text()
        return answer.json()["token"]

    def api(self, method: str, path: str, username: str = "desk", **kwargs):
        if username not in self.tokens:
            self.tokens[username] = self.token(username)
        answer = self.context.request.fetch(
            self.url(f"/api/v1{path}"),
            method=method,
            headers={"Authorization": f"Bearer {self.tokens[username]}"},
            **kwargs,
        )
        assert answer.ok, (path, answer.status, answer.text())
        return answer.json()

    def towns(self) -> list[dict]:
        """The demo's towns, each with its villages (code, name)."""
        district = self.api("GET", f"/regions/{DISTRICT}")
        return [self.api("GET", f"/regions/{town['code']}") for town in district["children"]]

    def close(self):
        self.context.close()


@pytest.fixture
def desk(browser, live_server):
    desk = Desk(browser, live_server)
    try:
        yield desk
    finally:
        desk.close()


def _upload(page, name: str, data: bytes):
    page.locator("input[data-test=roster-file]").set_input_files({"name": name, "mimeType": XLSX, "buffer": data})


def test_a_roster_with_one_bad_row_is_shown_fixed_and_imported(desk):
    page = desk.page
    page.goto(desk.url("/console/"))
    page.locator("input[name=username]").wait_for()
    screenshot(page, "console-login")
    desk.sign_in()
    expect(page.locator(".el-table__row").first).to_be_visible()
    screenshot(page, "console-people")

    town = desk.towns()[0]
    first, second = town["children"][0]["name"], town["children"][1]["name"]
    bad = [
        ("陈一", phone(101), town["name"], first, ""),
        ("林二", phone(102), town["name"], "不存在村", ""),
        ("黄三", phone(103), town["name"], second, ""),
    ]
    page.get_by_role("button", name="导入花名册", exact=True).click()
    _upload(page, "花名册.xlsx", roster_xlsx(bad))
    page.get_by_role("button", name="检查", exact=True).click()
    errors = page.locator(".roster-errors .el-table__row")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("3")
    expect(errors.first).to_contain_text("村/社区")
    expect(errors.first).to_contain_text("不存在村")
    expect(page.get_by_role("button", name="导入", exact=True)).to_be_disabled()
    screenshot(page, "console-roster-errors")
    assert desk.api("GET", "/users", params={"q": "林二"})["total"] == 0  # a dry run writes nothing

    fixed = [bad[0], ("林二", phone(102), town["name"], first, ""), bad[2]]
    _upload(page, "花名册（改正）.xlsx", roster_xlsx(fixed))
    page.get_by_role("button", name="检查", exact=True).click()
    expect(page.get_by_text("检查通过：共 3 行，可以导入")).to_be_visible()
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_text("已导入 3 人")).to_be_visible()
    expect(page.locator(".roster-people .el-table__row")).to_have_count(3)
    screenshot(page, "console-roster-imported")
    people = desk.api("GET", "/users", params={"q": "林二"})["items"]
    assert [p["username"] for p in people] == [phone(102)] and people[0]["grids"][0]["name"] == f"{first}网格"
    assert desk.errors == []


def _draw(page, points):
    """Clicks a polygon onto the map (geoman): each point, then the first one again to close it."""
    for x, y in points:
        page.mouse.click(x, y)
    page.mouse.click(*points[0])


def _village_box(page):
    box = page.locator("path.village-boundary").first.bounding_box()
    assert box, "the village boundaries are drawn"
    return box


def test_a_drawn_grid_gets_a_new_worker_who_then_sees_it(desk):
    made = desk.api(
        "POST", "/users", data={"name": "郑新人", "roles": ["grid_worker"], "region": DISTRICT, "phone": phone(201)}
    )
    page = desk.page
    desk.sign_in()
    desk.go("网格地图")
    expect(page.locator("path.village-boundary").first).to_be_attached()
    expect(page.locator("path.grid-area").first).to_be_attached()
    page.wait_for_timeout(300)  # the map's fit-to-town animation
    screenshot(page, "console-grids")

    box = _village_box(page)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.get_by_role("button", name="绘制网格", exact=True).click()
    _draw(page, [(cx - 25, cy - 25), (cx + 25, cy - 25), (cx + 25, cy + 25), (cx - 25, cy + 25)])
    page.locator("input[name=grid-name]").fill("新村示范网格")
    page.get_by_role("dialog").get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已新建网格“新村示范网格”")).to_be_visible()
    expect(page.locator(".focus")).to_contain_text("新村示范网格")

    page.get_by_role("button", name="调整网格员", exact=True).click()
    page.locator(".worker-picker input").fill("郑新人")
    page.locator(".el-select-dropdown__item", has_text="郑新人").click()
    page.keyboard.press("Escape")
    page.get_by_role("dialog", name=re.compile("调整网格员")).get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("网格员已更新")).to_be_visible()
    expect(page.locator(".focus .history")).to_contain_text("郑新人")
    expect(page.get_by_role("dialog")).to_be_hidden()
    page.wait_for_timeout(300)
    expect(page.locator(".focus .history")).to_contain_text("郑新人")
    screenshot(page, "console-grid-assigned")

    # The new worker signs in with the temporary password, sets one of their own, and sees the grid.
    login = desk.context.request.post(
        desk.url("/api/v1/auth/login"),
        data={"username": phone(201), "password": made["temporary_password"], "device": {"id": "new-worker-phone"}},
    )
    assert login.ok and login.json()["must_change_password"] is True
    token = {"Authorization": f"Bearer {login.json()['token']}"}
    changed = desk.context.request.post(
        desk.url("/api/v1/auth/password"),
        headers=token,
        data={"current_password": made["temporary_password"], "new_password": "Zheng-2026-grid"},
    )
    assert changed.status == 204, changed.text()
    grids = desk.context.request.get(desk.url("/api/v1/grids"), headers=token).json()
    assert [f["properties"]["name"] for f in grids["features"]] == ["新村示范网格"]
    assert desk.errors == []


def test_a_polygon_outside_the_town_is_refused_with_the_reason_on_the_map(desk):
    page = desk.page
    desk.sign_in()
    desk.go("网格地图")
    expect(page.locator("path.village-boundary").first).to_be_attached()
    page.wait_for_timeout(300)
    box = page.locator("[data-test=grid-map]").bounding_box()
    # From inside a village to the map's corner, beyond the town's edge.
    village = _village_box(page)
    cx, cy = village["x"] + village["width"] / 2, village["y"] + village["height"] / 2
    page.get_by_role("button", name="绘制网格", exact=True).click()
    right, top = box["x"] + box["width"] - 15, box["y"] + 15  # the top-left corner holds the zoom buttons
    _draw(page, [(cx, cy), (right, cy), (right, top), (cx, top)])
    page.locator("input[name=grid-name]").fill("越界网格")
    page.get_by_role("dialog").get_by_role("button", name="保存", exact=True).click()
    refusal = page.locator(".refusal")
    expect(refusal).to_contain_text("未能保存网格")
    expect(refusal).to_contain_text("乡镇")
    expect(page.locator("path.refused-shape")).to_be_attached()
    expect(page.locator("path.refused-outside")).to_be_attached()  # the part beyond the town's boundary
    expect(page.get_by_role("dialog")).to_be_hidden()
    screenshot(page, "console-grid-refused")
    assert desk.errors == []


def test_two_village_grids_are_merged_and_the_old_ones_retired(desk):
    page = desk.page
    desk.sign_in()
    desk.go("网格地图")
    rows = page.locator(".grid-list .el-table__body-wrapper .el-table__row")
    expect(rows.first).to_be_visible()
    names = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(2)]
    for i in range(2):
        rows.nth(i).locator(".el-checkbox").click()
    page.get_by_role("button", name="合并所选", exact=True).click()
    merged_name = page.locator("input[name=merged-name]").input_value()
    page.get_by_role("dialog", name="合并网格").get_by_role("button", name="合并", exact=True).click()
    expect(page.get_by_text(re.compile(r"已合并为.*撤销原网格 2 个"))).to_be_visible()
    expect(page.locator("[data-test=overlap-area]")).to_have_text("0 平方米")
    listed = page.locator(".grid-list .el-table__body-wrapper td:nth-child(2)")
    expect(listed.filter(has_text=re.compile(f"^{merged_name}$"))).to_have_count(1)
    assert not set(names) & set(listed.all_inner_texts())
    page.wait_for_timeout(300)
    screenshot(page, "console-grids-merged")

    town = desk.towns()[0]["code"]
    live = desk.api("GET", "/grids", params={"region": town, "per_page": 500})["features"]
    every = desk.api("GET", "/grids", params={"region": town, "per_page": 500, "retired": "true"})["features"]
    retired = {f["properties"]["name"] for f in every if f["properties"]["retired_at"]}
    assert set(names) <= retired and merged_name in {f["properties"]["name"] for f in live}
    assert desk.api("GET", f"/regions/{town}/coverage")["overlap_area_m2"] == 0
    page.get_by_text("按风险着色", exact=True).click()
    expect(page.locator(".legend")).to_contain_text("重大风险（红）")
    page.wait_for_timeout(400)  # the radio button's colour transition
    screenshot(page, "console-grids-risk")
    assert desk.errors == []


def _hazards(desk, towns) -> dict[str, str]:
    """Three hazards found now: two in the first town (one major), one in the second; description → id."""
    made = {}
    for town, level, text, finder in (
        (towns[0], "major", "油罐区防雷检测过期", "inspector1"),
        (towns[0], "general", "灭火器压力不足", "gridworker1"),
        (towns[1], "major", "仓库超量储存", "inspector1"),
    ):
        enterprise = desk.api("GET", "/enterprises", params={"region": town["code"], "per_page": 1})["items"][0]
        if finder == "gridworker1":  # a grid worker reports in their own grid
            enterprise = desk.api("GET", "/enterprises", username=finder, params={"per_page": 1})["items"][0]
        hazard = desk.api(
            "POST",
            "/hazards",
            username=finder,
            data={
                "enterprise_id": enterprise["id"],
                "level": level,
                "description": text,
                "found_at": desk.server.clock.now().isoformat(),
            },
        )
        made[text] = hazard["id"]
    return made


def test_the_ledger_is_filtered_and_downloaded_as_xlsx(desk):
    towns = desk.towns()
    made = _hazards(desk, towns)
    page = desk.page
    desk.sign_in()
    desk.go("隐患台账")
    expect(page.locator(".ledger-table .el-table__row")).to_have_count(3)
    page.locator(".town-filter").click()
    page.locator(".el-select-dropdown__item:visible", has_text=towns[0]["name"]).click()
    page.locator(".level-filter").click()
    page.locator(".el-select-dropdown__item:visible", has_text="重大隐患").click()
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.locator(".ledger-table .el-table__row")).to_have_count(1)
    expect(page.locator(".ledger-table")).to_contain_text("油罐区防雷检测过期")
    screenshot(page, "console-ledger")

    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel", exact=True).click()
    data = open(download.value.path(), "rb").read()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(data))["隐患台账"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [row["隐患编号"] for row in rows] == [made["油罐区防雷检测过期"]]
    assert rows[0]["乡镇（街道）"] == towns[0]["name"] and rows[0]["隐患等级"] == "重大事故隐患"
    for column in ("五落实·责任", "五落实·措施", "五落实·资金", "五落实·时限", "五落实·预案", "复查人"):
        assert column in header
    assert desk.errors == []


def test_figures_enterprises_and_plans_show_without_errors(desk):
    _hazards(desk, desk.towns())
    page = desk.page
    desk.sign_in()
    desk.go("月度统计")
    expect(page.get_by_text("本月发现隐患")).to_be_visible()
    expect(page.locator(".ranking .el-table__row")).to_have_count(4)
    expect(page.locator(".risk-map path").first).to_be_attached()
    page.wait_for_timeout(500)  # the charts' entry animation
    screenshot(page, "console-figures")
    desk.go("一企一档")
    expect(page.locator(".el-table__row").first).to_be_visible()
    screenshot(page, "console-enterprises")
    desk.go("计划与抽查")
    page.get_by_role("button", name="双随机抽取", exact=True).click()
    page.get_by_role("dialog", name="双随机抽取").get_by_role("button", name="抽取", exact=True).click()
    expect(page.get_by_text("双随机抽查公示（一公开）")).to_be_visible()
    page.wait_for_timeout(300)
    screenshot(page, "console-plans")
    assert desk.errors == []


def test_five_thousand_rows_go_through_the_page(desk):
    places = [(t["name"], v["name"]) for t in desk.towns() for v in t["children"]]
    rows = [(f"网格员{n}", phone(10_000 + n), *places[n % len(places)], "") for n in range(5000)]
    page = desk.page
    desk.sign_in()
    page.get_by_role("button", name="导入花名册", exact=True).click()
    _upload(page, "全区花名册.xlsx", roster_xlsx(rows))
    page.get_by_role("button", name="检查", exact=True).click()
    expect(page.get_by_text("检查通过：共 5000 行，可以导入")).to_be_visible(timeout=SLOW)
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_text("已导入 5000 人")).to_be_visible(timeout=SLOW)
    expect(page.locator(".roster-people .el-table__row")).to_have_count(50)  # shown 50 to a page
    assert desk.api("GET", "/users", params={"role": "grid_worker", "per_page": 1})["total"] == 5000 + 3
    assert desk.errors == []


def test_a_person_is_created_with_reasons_beside_the_fields_and_the_password_shown_once(desk):
    page = desk.page
    desk.sign_in()
    page.get_by_role("button", name="新建人员", exact=True).click()
    dialog = page.get_by_role("dialog", name="新建人员")
    dialog.locator("input[name=phone]").fill("13800001001")  # the demo desk officer's
    dialog.get_by_role("button", name="保存", exact=True).click()
    name_item = dialog.locator(".el-form-item", has=page.locator("input[name=name]"))
    expect(name_item.locator(".el-form-item__error")).to_be_visible()
    dialog.locator("input[name=name]").fill("冯新")
    dialog.get_by_role("button", name="保存", exact=True).click()
    phone_item = dialog.locator(".el-form-item", has=page.locator("input[name=phone]"))
    expect(phone_item.locator(".el-form-item__error")).to_contain_text("13800001001")
    expect(dialog.locator(".el-alert")).to_contain_text("手机号已被其他账号使用")
    page.wait_for_timeout(400)  # the error's entry transition
    screenshot(page, "console-person-errors")
    dialog.locator("input[name=phone]").fill(phone(301))
    dialog.get_by_role("button", name="保存", exact=True).click()
    shown = page.get_by_role("dialog", name="临时密码")
    expect(shown.locator(".temporary-password")).to_have_text(re.compile(r"\S{8,}"))
    temporary = shown.locator(".temporary-password").inner_text()
    shown.get_by_role("button", name="我已记下", exact=True).click()
    login = desk.context.request.post(
        desk.url("/api/v1/auth/login"),
        data={"username": phone(301), "password": temporary, "device": {"id": "feng-phone"}},
    )
    assert login.ok and login.json()["must_change_password"] is True
    expect(page.locator(".el-table__row", has_text="冯新")).to_contain_text("待改密码")
    assert desk.errors == []


def test_a_village_grid_is_split_by_a_drawn_part(desk):
    page = desk.page
    desk.sign_in()
    desk.go("网格地图")
    town = desk.towns()[0]
    grids = desk.api("GET", "/grids", params={"region": town["code"], "per_page": 500})["features"]
    target = next(f for f in grids if len(f["properties"]["villages"]) == 1 and not f["properties"]["workers"])
    name = target["properties"]["name"]
    page.locator(".grid-list .el-table__row", has_text=name).locator("td").nth(1).click()
    expect(page.locator(".focus")).to_contain_text(name)
    shape = page.locator(f"path.grid-{target['properties']['id']}")
    expect(shape).to_be_attached()
    page.wait_for_timeout(300)
    box = shape.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.get_by_role("button", name="拆分所选", exact=True).click()
    _draw(page, [(cx - 15, cy - 15), (cx + 15, cy - 15), (cx + 15, cy + 15), (cx - 15, cy + 15)])
    dialog = page.get_by_role("dialog", name="拆分网格")
    village = name.removesuffix("网格")
    expect(dialog.locator("input[name=grid-name]")).to_have_value(f"{village}一网格")
    dialog.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text(f"已拆分为“{village}一网格”和“{village}二网格”")).to_be_visible()
    listed = page.locator(".grid-list .el-table__body-wrapper td:nth-child(2)")
    expect(listed.filter(has_text=re.compile(f"^{village}[一二]网格$"))).to_have_count(2)
    assert name not in listed.all_inner_texts()
    coverage = desk.api("GET", f"/regions/{town['code']}/coverage")
    assert coverage["overlap_area_m2"] == 0 and coverage["gap_area_m2"] == 0
    page.wait_for_timeout(300)
    screenshot(page, "console-grid-split")
    assert desk.errors == []


def test_a_device_is_revoked_and_a_person_deactivated(desk):
    token = desk.token("gridworker1")  # 赵网格 signs in on a phone
    page = desk.page
    desk.sign_in()
    row = page.locator(".el-table__row", has_text="gridworker1")
    row.get_by_role("button", name="设备", exact=True).click()
    drawer = page.get_by_role("dialog", name="赵网格 的设备")
    device = drawer.locator(".el-table__row").first
    expect(device).to_contain_text("有效")
    device.get_by_role("button", name="吊销", exact=True).click()
    page.locator(".el-message-box").get_by_role("button", name="吊销", exact=True).click()
    expect(device).to_contain_text("已吊销")
    page.wait_for_timeout(300)
    screenshot(page, "console-devices")
    answer = desk.context.request.get(desk.url("/api/v1/grids"), headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 401
    drawer.get_by_role("button", name="Close").or_(drawer.locator(".el-drawer__close-btn")).first.click()

    other = page.locator(".el-table__row", has_text="gridworker2")
    other.get_by_role("button", name="停用", exact=True).click()
    page.locator(".el-message-box").get_by_role("button", name="停用", exact=True).click()
    expect(page.get_by_text("已停用 钱网格")).to_be_visible()
    expect(page.locator(".el-table__row", has_text="gridworker2")).to_have_count(0)
    login = desk.context.request.post(
        desk.url("/api/v1/auth/login"),
        data={"username": "gridworker2", "password": "anxun-demo", "device": {"id": "qian-phone"}},
    )
    assert login.status == 401
    assert desk.errors == []


def test_an_enterprise_is_edited_and_moved_on_the_map(desk):
    page = desk.page
    desk.sign_in()
    desk.go("一企一档")
    first = page.locator(".el-table__row").first
    name = first.locator("td").first.inner_text()
    before = desk.api("GET", "/enterprises", params={"q": name})["items"][0]
    first.get_by_role("button", name="编辑/定位", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"编辑 {name}")
    expect(dialog.locator(".place-map path").first).to_be_attached()  # the village boundary as a guide
    dialog.locator(".el-form-item", has_text="联系人").locator("input").fill("新联系人")
    map_box = dialog.locator(".place-map").bounding_box()
    page.mouse.click(map_box["x"] + map_box["width"] / 2 + 20, map_box["y"] + map_box["height"] / 2 + 10)
    page.wait_for_timeout(300)
    screenshot(page, "console-enterprise-edit")
    dialog.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已保存")).to_be_visible()
    after = desk.api("GET", f"/enterprises/{before['id']}")
    assert after["contact_name"] == "新联系人" and after["version"] == before["version"] + 1
    assert after["location"] != before["location"]
    assert desk.errors == []


def test_an_ended_session_leads_back_to_the_login_in_chinese(desk):
    page = desk.page
    desk.sign_in()
    # The day's work is done: nothing is still loading. (A label's lookup still on its way when the token
    # ended came back 401 and sent the page to the login before the morning's visit below.)
    page.wait_for_load_state("networkidle")
    session = page.evaluate("JSON.parse(localStorage.getItem('anxun.console.session'))")
    ended = desk.context.request.post(
        desk.url("/api/v1/auth/logout"), headers={"Authorization": f"Bearer {session['token']}"}
    )
    assert ended.status == 204
    page.goto(desk.url("/console/ledger"))  # the next morning, say: the page still holds the old token
    # The sentence first: it shows for 6 s, and on a busy machine the login page can take longer to come.
    message = page.locator(".el-message--error")
    expect(message).to_have_count(1, timeout=15_000)
    expect(message).to_contain_text("登录已失效，请重新登录")
    page.locator("input[name=password]").wait_for()
    desk.sign_in()  # and back to work
    assert desk.errors == []


def test_a_plan_is_created_with_two_inspectors(desk):
    page = desk.page
    desk.sign_in()
    desk.go("计划与抽查")
    page.get_by_role("button", name="新建检查计划", exact=True).click()
    dialog = page.get_by_role("dialog", name="新建检查计划")
    dialog.locator(".el-form-item", has_text="标题").locator("input").fill("烟花爆竹专项检查")
    dialog.get_by_role("button", name="保存", exact=True).click()
    expect(dialog.locator(".el-alert")).to_be_visible()  # no enterprises, no inspectors: said in Chinese
    dialog.locator(".el-form-item", has_text="企业").locator(".el-select").click()
    page.locator(".el-select-dropdown__item:visible").first.click()
    page.keyboard.press("Escape")
    dialog.locator(".el-form-item", has_text="执法人员").locator(".el-select").click()
    page.locator(".el-select-dropdown__item:visible", has_text="李执法").click()
    page.locator(".el-select-dropdown__item:visible", has_text="张执法").click()
    page.keyboard.press("Escape")
    dialog.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("计划已建立")).to_be_visible()
    expect(page.locator(".el-table__row", has_text="烟花爆竹专项检查")).to_be_visible()
    plans = desk.api("GET", "/plans")["items"]
    assert [(p["title"], len(p["enterprise_ids"]), len(p["inspectors"])) for p in plans] == [("烟花爆竹专项检查", 1, 2)]
    assert desk.errors == []
