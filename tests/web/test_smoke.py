"""Each web app loads in Chromium from the real server and shows its Chinese title, with no console errors."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "entry, title, heading",
    [
        ("app", "安巡 外勤", "安巡 外勤"),
        ("console", "安巡 内勤工作台", "安巡 内勤工作台"),
        ("open", "安巡 公众服务", "12350 安全生产举报"),
    ],
)
def test_each_entry_loads_and_shows_its_title(live_server, phone, entry, title, heading):
    page = phone.page
    page.goto(f"{live_server.url}/{entry}/")
    page.get_by_text(heading).first.wait_for()
    assert page.title() == title
    assert phone.errors == []


def test_the_field_app_answers_a_deep_link_with_its_shell(live_server, phone):
    page = phone.page
    page.goto(f"{live_server.url}/app/hazards/some-id")
    page.get_by_text("安巡 外勤").first.wait_for()
    assert page.title() == "安巡 外勤"
    assert phone.errors == []
