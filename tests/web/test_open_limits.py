"""The daily limit seen from the public report page: the 31st report from one address in a day is
refused, and the page shows the server's problem+json in Chinese. An easy proof-of-work (8 bits) here,
so the 30 reports before it are quick to send."""

from __future__ import annotations

import itertools

import pytest

from public_reports.challenge import solves
from tests.web.conftest import screenshot
from tests.web.test_open_pages import centre, fill_report, live_db, phone_at, retailer_point  # noqa: F401 (fixtures)


@pytest.fixture
def server_settings():
    return {"public_challenge_bits": 8}


def test_the_31st_report_from_one_address_shows_the_servers_message(live_server, browser, retailer_point):  # noqa: F811
    client = live_server.app.test_client()  # from 127.0.0.1, like the browser
    lon, lat = retailer_point
    for number in range(30):
        challenge = client.get("/api/v1/public/challenge").get_json()
        nonce = next(str(n) for n in itertools.count() if solves(challenge["challenge"], str(n), challenge["bits"]))
        sent = client.post(
            "/api/v1/public/reports",
            json={
                "challenge": challenge["challenge"],
                "nonce": nonce,
                "what": f"第 {number + 1} 条举报",
                "location": {"lon": lon, "lat": lat},
            },
        )
        assert sent.status_code == 201, sent.get_json()

    phone = phone_at(browser, lon, lat)
    page = phone.page
    try:
        fill_report(page, live_server.url, what="又发现一处隐患", place="青石镇老街")
        page.get_by_role("button", name="提交举报").click()
        problem = page.get_by_test_id("problem")
        problem.wait_for()
        assert problem.inner_text() == (
            "今日举报次数已达上限：同一网络地址每天最多可提交 30 条举报，请明天再试；紧急情况请拨打 12350 或 119"
        )
        assert page.get_by_test_id("tracking-code").count() == 0
        assert page.locator("textarea[name=what]").input_value() == "又发现一处隐患"  # nothing typed is lost
        centre(problem)
        screenshot(page, "open-report-limit")
        # Chromium logs the refused request (429); nothing else may go wrong.
        assert [e for e in phone.errors if "429" not in e] == []
    finally:
        phone.context.close()
