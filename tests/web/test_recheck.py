"""A major hazard closes only through a recheck (复查) in the field app, in Chromium against a real server:
the enterprise has submitted its rectification; the inspector records a recheck inspection with a
fellow inspector that passes the hazard's item, then verifies (销号) naming it — both from the outbox
in one push — and the hazard closes on the server (docs/loop-rules.md)."""

from __future__ import annotations

import uuid

from sync.client import SyncClient
from tests.web.conftest import days_ahead, login, photo_file, query, screenshot

ITEM = "FW-R-010"


def test_a_major_hazard_closes_on_a_recheck_that_passes_its_item(live_server, phone, tmp_path):
    retailer = query(
        live_server,
        "SELECT e.id::text FROM enterprises e JOIN users u ON u.enterprise_id = e.id WHERE u.username = 'enterprise1'",
    )[0]
    ids = {u.username: str(u.id) for u in query(live_server, "SELECT id, username FROM users")}
    deadline = f"{days_ahead(10)}T18:00:00+08:00"
    # The inspection that found it and the order (inspector2's phone), the rectification (enterprise1's).
    inspector = SyncClient(tmp_path / "inspector2.sqlite", server_url=live_server.url, max_attempts=2, backoff=0.1)
    inspector.login("inspector2", "anxun-demo")
    found_at = f"{days_ahead(-2)}T09:00:00+08:00"
    evidence = photo_file(tmp_path, "found.jpg", size=(200, 150))
    found = inspector.record(
        {
            "entity": "inspection",
            "op": "create",
            "data": {
                "enterprise_id": retailer.id,
                "kind": "routine",
                "checklist": {"code": "fireworks.retail", "version": 2},
                "inspectors": [ids["inspector2"], ids["inspector1"]],
                "started_at": found_at,
                "finished_at": found_at,
                "answers": [{"item": ITEM, "result": "fail", "photos": [inspector.add_photo(evidence)]}],
            },
        }
    )
    hazard_id = str(uuid.uuid5(uuid.UUID(found.id), ITEM))
    inspector.record(
        {
            "entity": "hazard",
            "op": "transition",
            "id": hazard_id,
            "data": {
                "action": "order",
                "deadline": deadline,
                "responsible_person": "王店主",
                "measures": "搬离住宿",
                "five": {
                    "responsibility": "王店主",
                    "measures": "搬离住宿",
                    "funds": "自筹",
                    "deadline": deadline,
                    "contingency_plan": "停业整改",
                },
            },
        }
    )
    assert len(inspector.push().applied) == 2
    inspector.close()
    officer = SyncClient(tmp_path / "enterprise1.sqlite", server_url=live_server.url, max_attempts=2, backoff=0.1)
    officer.login("enterprise1", "anxun-demo")
    officer.pull()
    after = photo_file(tmp_path, "after.jpg", size=(200, 150))
    officer.record(
        {
            "entity": "hazard",
            "op": "transition",
            "id": hazard_id,
            "data": {"action": "submit", "photos": [officer.add_photo(after)], "note": "已搬离"},
        }
    )
    assert officer.push().applied
    officer.close()

    page = phone.page
    login(phone, live_server, "inspector1")
    page.goto(f"{live_server.url}/app/hazards/{hazard_id}")
    page.get_by_test_id("hazard-status").filter(has_text="待复查").wait_for()
    page.get_by_test_id("action-verify").click()
    page.get_by_text("先做复查检查").click()
    page.get_by_text("烟花爆竹零售店（点）安全检查表").wait_for()
    page.get_by_text("复查", exact=True).click()
    page.get_by_text("张执法").click()  # the fellow inspector (inspector2), from the directory pulled at login
    page.get_by_test_id("check-in").click()
    page.get_by_test_id("section-site").get_by_text("场所条件").click()
    page.locator(f"[data-item='{ITEM}']").get_by_text("合格", exact=True).click()
    page.get_by_test_id("save-inspection").click()
    page.get_by_test_id("save-inspection").wait_for(state="detached")

    page.get_by_test_id("action-verify").click()
    page.get_by_test_id("recheck-choice").first.click()
    page.fill("textarea[name=note]", "复查合格，同意销号")
    screenshot(page, "field-recheck-verify")
    page.get_by_test_id("save-action").click()
    page.get_by_test_id("hazard-status").filter(has_text="已销号").filter(has_not_text="待上传").wait_for(
        timeout=60_000
    )
    assert query(live_server, "SELECT status FROM hazards WHERE id = :h", h=hazard_id)[0].status == "closed"
    rechecks = query(live_server, "SELECT id FROM inspections WHERE kind = 'recheck'")
    assert len(rechecks) == 1
