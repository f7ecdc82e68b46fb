"""The console's 任务 page and the 操作记录 drawer (issue 19, "Plans and draws"), in Chromium at 1440×900
against the real server: a desk officer gives gridworker1 a patrol — first of an enterprise outside the
worker's grid, refused with the reason on the 执行人 field in Chinese, then of one in it — the task shows
in the list, gridworker1's field app (/app/, 今日任务) shows it after signing in, and when the desk withdraws
it the phone's next sync takes it away; the desk officer opens a hazard's 操作记录 from the ledger and sees
its report and every transition, with who and from which device."""

from __future__ import annotations


from playwright.sync_api import expect

from tests.web.conftest import login as field_login
from tests.web.conftest import days_ahead, run_jobs, screenshot
from tests.web.test_console import desk  # noqa: F401  (fixture)


def _pick(page, form_item, text: str, search: str | None = None):
    """Chooses ``text`` in an Element Plus select of the open dialog (typing ``search`` first when remote)."""
    select = form_item.locator(".el-select")
    select.click()
    if search is not None:
        form_item.locator("input").first.fill(search)
    page.locator(".el-select-dropdown__item:visible", has_text=text).first.click()


def _overdue(server, task_id: str) -> None:
    """A task whose due time passed yesterday (the API gives none with a due time in the past)."""
    from sqlalchemy import text

    with server.app.extensions["anxun"].session_factory.begin() as session:
        session.execute(text("UPDATE tasks SET due = now() - interval '1 day' WHERE id = :id"), {"id": task_id})


def _person(desk, username: str) -> dict:
    (person,) = [u for u in desk.api("GET", "/users", params={"q": username})["items"] if u["username"] == username]
    return person


def test_a_task_given_in_the_console_reaches_the_grid_workers_phone_and_leaves_it_when_withdrawn(
    desk, browser, live_server, phone
):
    worker = _person(desk, "gridworker1")
    neighbour_grid = _person(desk, "gridworker2")["grids"][0]["id"]
    outside = desk.api("GET", "/enterprises", params={"grid_id": neighbour_grid, "per_page": 1})["items"][0]
    inside = desk.api("GET", f"/enterprises/{_person(desk, 'enterprise1')['enterprise_id']}")
    due = days_ahead(2)
    # The schedule's patrols of the district (by risk colour), one of gridworker1's already past its due time.
    run_jobs(live_server, "patrol_tasks")
    scheduled = desk.api("GET", "/tasks", params={"assignee_id": worker["id"], "per_page": 500})["items"]
    assert scheduled and all(t["kind"] == "patrol" for t in scheduled)
    late = next(t for t in scheduled if t["enterprise_id"] != inside["id"])
    _overdue(live_server, late["id"])

    page = desk.page
    desk.sign_in()
    desk.go("任务")
    expect(page.locator(".task-table")).to_be_visible()
    page.get_by_role("button", name="派发任务", exact=True).click()
    dialog = page.get_by_role("dialog", name="派发任务")
    items = {
        label: dialog.locator(f".field-{name}")
        for label, name in (("企业", "enterprise"), ("执行人", "assignee"), ("任务名称", "title"), ("截止日期", "due"))
    }
    _pick(page, items["企业"], outside["name"], search=outside["name"][:4])
    expect(items["任务名称"].locator("input")).to_have_value(f"巡查：{outside['name']}")  # filled from the choice
    _pick(page, items["执行人"], worker["name"], search=worker["name"])
    items["截止日期"].locator("input").fill(due)
    page.keyboard.press("Enter")
    dialog.get_by_role("button", name="派发", exact=True).click()
    # Refused: the enterprise is not in gridworker1's grid — said on the 执行人 field, in Chinese.
    expect(items["执行人"].locator(".el-form-item__error")).to_contain_text("负责的网格内没有这家企业")
    expect(dialog.locator(".el-alert")).to_contain_text("数据校验未通过")
    screenshot(page, "console-task-refused")
    assert desk.api("GET", "/tasks", params={"assignee_id": worker["id"]})["total"] == len(scheduled)

    _pick(page, items["企业"], inside["name"], search=inside["name"][:4])
    title = f"巡查：{inside['name']}"
    expect(items["任务名称"].locator("input")).to_have_value(title)
    dialog.get_by_role("button", name="派发", exact=True).click()
    expect(page.get_by_text(f"已派发给 {worker['name']}")).to_be_visible()
    # The list of gridworker1's tasks: the overdue one first, in red.
    _pick(page, page.locator(".task-filters .el-form-item", has_text="执行人"), worker["name"], search=worker["name"])
    page.get_by_role("button", name="查询", exact=True).click()
    first = page.locator(".task-table .el-table__row").first
    expect(first).to_contain_text(late["title"])
    expect(first.locator(".overdue")).to_be_visible()
    expect(first).to_contain_text("逾期")
    row = page.locator(".task-table .el-table__row", has_text=title)
    expect(row).to_contain_text(worker["name"])
    expect(row).to_contain_text("待办")
    expect(row).to_contain_text(f"{due} 23:59")
    page.wait_for_timeout(300)  # the dialog's closing animation
    screenshot(page, "console-tasks")
    (task,) = [t for t in desk.api("GET", "/tasks", params={"per_page": 500})["items"] if t["title"] == title]
    assert (task["assignee_id"], task["enterprise_id"], task["status"]) == (worker["id"], inside["id"], "open")

    # gridworker1's field app shows it among the tasks after the first sync.
    field_login(phone, live_server, "gridworker1")
    phone.page.get_by_test_id("task").filter(has_text=title).wait_for()

    # The desk withdraws it with a reason; the phone's next sync takes it off the list.
    row.get_by_role("button", name="撤销", exact=True).click()
    box = page.locator(".el-message-box")
    box.locator("input").fill("企业已停业")
    box.get_by_role("button", name="撤销任务", exact=True).click()
    expect(page.get_by_text("任务已撤销")).to_be_visible()
    expect(page.locator(".task-table .el-table__row", has_text=title)).to_have_count(0)  # the list shows open ones
    phone.page.get_by_test_id("sync-button").click()
    phone.page.get_by_test_id("sync-message").filter(has_text="已是最新").wait_for(timeout=60_000)
    expect(phone.page.get_by_test_id("task").filter(has_text=title)).to_have_count(0)

    # Its 操作记录: given, then withdrawn, by the desk officer.
    page.locator(".task-filters .status-filter").click()
    page.locator(".el-select-dropdown__item:visible", has_text="已撤销").click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="查询", exact=True).click()
    page.locator(".task-table .el-table__row", has_text=title).get_by_role("button", name="操作记录").click()
    trail = page.get_by_test_id("audit-trail")
    expect(trail.locator(".el-table__row")).to_have_count(2)
    expect(trail.locator(".el-table__row").nth(0)).to_contain_text("派发任务")
    expect(trail.locator(".el-table__row").nth(1)).to_contain_text("撤销任务")
    assert desk.errors == []
    assert phone.errors == [] or all("Failed to load resource" in e for e in phone.errors), phone.errors


def test_a_hazards_trail_opens_from_the_ledger_with_every_step(desk):
    retailer = _person(desk, "enterprise1")["enterprise_id"]
    hazard = desk.api(
        "POST",
        "/hazards",
        username="gridworker1",
        data={
            "enterprise_id": retailer,
            "level": "general",
            "description": "消防通道堆放纸箱",
            "photos": [],
            "found_at": f"{days_ahead(0)}T08:30:00+08:00",
        },
    )
    steps = [
        (
            "desk",
            {
                "action": "order",
                "deadline": f"{days_ahead(5)}T18:00:00+08:00",
                "responsible_person": "王店主",
                "measures": "清理通道",
            },
        ),
        ("gridworker1", {"action": "submit", "photos": ["e" * 64], "note": "已清理"}),
        ("inspector1", {"action": "verify", "note": "复查合格"}),
    ]
    for version, (who, step) in enumerate(steps, start=1):
        desk.api("POST", f"/hazards/{hazard['id']}/transitions", username=who, data={"base_version": version, **step})

    page = desk.page
    desk.sign_in()
    desk.go("隐患台账")
    row = page.locator(".ledger-table .el-table__row", has_text="消防通道堆放纸箱")
    row.get_by_role("button", name="操作记录").click()
    drawer = page.locator(".audit-trail")
    expect(drawer).to_contain_text("操作记录 · ")
    entries = page.get_by_test_id("audit-trail").locator(".el-table__row")
    expect(entries).to_have_count(4)
    names = {u: _person(desk, u)["name"] for u in ("gridworker1", "desk", "inspector1")}
    for n, (action, who) in enumerate(
        [("上报隐患", "gridworker1"), ("责令整改", "desk"), ("提交整改", "gridworker1"), ("复查销号", "inspector1")]
    ):
        expect(entries.nth(n)).to_contain_text(action)
        expect(entries.nth(n)).to_contain_text(names[who])
    expect(entries.nth(1)).to_contain_text("to: ordered")
    expect(entries.nth(0)).to_contain_text(days_ahead(0))
    page.wait_for_timeout(300)  # the drawer's opening animation
    screenshot(page, "console-audit-trail")
    assert desk.errors == []
