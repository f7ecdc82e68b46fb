"""An enterprise safety officer in the field app (issue 18), in Chromium against a real server: the 日周月
self-inspection tasks, a self-inspection done from its task, the enterprise's own hazard ordered by an
inspector, its rectification submitted with a photo from the camera; then the inspector's phone verifies
it (复查销号) and the hazard closes."""

from __future__ import annotations

import hashlib

from sync.client import SyncClient
from tests.web.conftest import days_ahead, login, open_phone, photo_file, query, run_jobs, screenshot


def test_self_inspection_and_rectification_closed_by_the_inspector(live_server, phone, browser, tmp_path):
    run_jobs(live_server, "self_inspection_tasks")
    retailer = query(
        live_server,
        "SELECT e.id::text, e.name FROM enterprises e JOIN users u ON u.enterprise_id = e.id "
        "WHERE u.username = 'enterprise1'",
    )[0]
    # An inspector found a hazard there and ordered it rectified (the reference client, as a phone would).
    inspector = SyncClient(tmp_path / "inspector1.sqlite", server_url=live_server.url, max_attempts=2, backoff=0.1)
    inspector.login("inspector1", "anxun-demo")
    hazard = inspector.record(
        {
            "entity": "hazard",
            "op": "create",
            "data": {
                "enterprise_id": retailer.id,
                "level": "general",
                "description": "灭火器压力不足",
                "found_at": f"{days_ahead(-1)}T09:00:00+08:00",
            },
        }
    )
    inspector.record(
        {
            "entity": "hazard",
            "op": "transition",
            "id": hazard.id,
            "data": {
                "action": "order",
                "deadline": f"{days_ahead(15)}T18:00:00+08:00",
                "responsible_person": "王店主",
                "measures": "更换灭火器",
            },
        }
    )
    assert len(inspector.push().applied) == 2
    inspector.close()

    page = phone.page
    login(phone, live_server, "enterprise1")
    page.get_by_test_id("task").filter(has_text="排查").first.wait_for()
    screenshot(page, "field-enterprise-tasks")

    # A self-inspection from its task: the task completes with the inspection as its result.
    page.get_by_test_id("task").filter(has_text="日排查").first.click()
    page.get_by_test_id("section-licence").get_by_text("证照与布点").click()
    page.locator("[data-item='FW-R-001']").get_by_text("合格", exact=True).click()
    page.get_by_test_id("save-inspection").click()
    page.get_by_test_id("save-inspection").wait_for(state="detached")

    page.get_by_text("隐患", exact=True).last.click()
    page.get_by_test_id("hazard").filter(has_text="灭火器压力不足").click()
    page.get_by_test_id("action-submit").click()
    photo = photo_file(tmp_path, "after.jpg", size=(320, 240))
    page.get_by_test_id("photo-input").set_input_files(str(photo))
    page.locator(".thumb img").wait_for()
    page.fill("textarea[name=note]", "已更换两具新灭火器")
    screenshot(page, "field-rectification")
    page.get_by_test_id("save-action").click()
    page.get_by_test_id("hazard-status").filter(has_text="待复查").filter(has_not_text="待上传").wait_for(
        timeout=60_000
    )
    page.get_by_text("同步", exact=True).last.click()
    page.get_by_test_id("count-photos").filter(has_text="0").wait_for(timeout=60_000)

    row = query(live_server, "SELECT status, version FROM hazards WHERE id = :h", h=hazard.id)[0]
    assert row.status == "submitted"
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert (
        query(live_server, "SELECT size_bytes FROM photos WHERE sha256 = :s", s=sha)[0].size_bytes
        == photo.stat().st_size
    )
    selfs = query(live_server, "SELECT id FROM inspections WHERE kind = 'self' AND enterprise_id = :e", e=retailer.id)
    assert len(selfs) == 1
    done = query(live_server, "SELECT status, result_id FROM tasks WHERE kind = 'self_inspection' AND status = 'done'")
    assert [(t.status, t.result_id) for t in done] == [("done", selfs[0].id)]
    assert phone.errors == [] or all("Failed to load resource" in e for e in phone.errors), phone.errors

    # The inspector's phone sees the rectification and closes the hazard (复查销号).
    checker = open_phone(browser)
    try:
        login(checker, live_server, "inspector1")
        checker.page.goto(f"{live_server.url}/app/hazards/{hazard.id}")
        checker.page.get_by_test_id("hazard-status").filter(has_text="待复查").wait_for()
        checker.page.get_by_test_id("action-verify").click()
        checker.page.fill("textarea[name=note]", "现场核实已整改")
        checker.page.get_by_test_id("save-action").click()
        checker.page.get_by_test_id("hazard-status").filter(has_text="已销号").filter(has_not_text="待上传").wait_for(
            timeout=60_000
        )
        checker.page.evaluate("window.scrollTo(0, 0)")
        screenshot(checker.page, "field-hazard-closed")
    finally:
        checker.context.close()
    checker_done = query(live_server, "SELECT status FROM hazards WHERE id = :h", h=hazard.id)[0]
    assert checker_done.status == "closed"
