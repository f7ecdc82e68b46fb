"""The public pages (/open/) in Chromium against a real server: a member of the public reports a hazard
with a photo and follows it by tracking code while the desk handles it through the API; what the public
sends is shown as text, never as HTML; the 双随机一公开 page shows a draw with its seed, recomputes it in
the browser and shows the inspection's result. Screenshots at 360×640 go to docs/screens/open-*.png."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from core.clock import SHANGHAI

from tests.evidence.images import jpeg, make_exif
from tests.web.conftest import ROOT, open_phone, screenshot

INJECTION = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


@pytest.fixture
def live_db(live_server):
    """A session on the live server's own database, for looking up demo records."""
    engine = create_engine(live_server.database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def desk_api(live_server):
    """``desk_api(method, path, username="desk", **kwargs)``: the API through Flask's test client as
    a demo account, on the live server's database (real commits)."""
    client = live_server.app.test_client()
    tokens = {}

    def call(method, path, username="desk", **kwargs):
        if username not in tokens:
            login = client.post(
                "/api/v1/auth/login",
                json={
                    "username": username,
                    "password": "anxun-demo",
                    "device": {
                        "id": f"web-test-{username}",
                        "name": "pytest",
                        "platform": "web",
                        "app_version": "1.0.0",
                    },
                },
            )
            assert login.status_code == 200, login.get_json()
            tokens[username] = login.get_json()["token"]
        return client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[username]}"}, **kwargs)

    return call


@pytest.fixture
def retailer_point(live_db):
    from accounts.models import User
    from enterprises.models import Enterprise

    enterprise_id = live_db.scalar(select(User.enterprise_id).where(User.username == "enterprise1"))
    lon, lat = live_db.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == enterprise_id)
    ).one()
    return lon, lat


def phone_at(browser, lon: float, lat: float):
    """A phone whose GPS answers (lon, lat), allowed to locate and to use the clipboard."""
    phone = open_phone(
        browser,
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
        permissions=["geolocation", "clipboard-read", "clipboard-write"],
    )
    return phone


def fill_report(
    page, url: str, *, what: str, place: str, photo: Path | None = None, name: str = "", phone_number: str = ""
):
    page.goto(f"{url}/open/report")
    page.get_by_test_id("photo-limits").filter(has_text="每张不超过").wait_for()
    page.locator("textarea[name=what]").fill(what)
    page.get_by_role("button", name="使用手机定位").click()
    page.get_by_test_id("picked-place").wait_for()
    page.locator("input[name=place]").fill(place)
    if photo is not None:
        page.locator("input[type=file]").set_input_files(str(photo))
        page.locator(".van-uploader__preview").first.wait_for()
    if name:
        page.locator("input[name=name]").fill(name)
    if phone_number:
        page.locator("input[name=phone]").fill(phone_number)


def test_a_member_of_the_public_reports_with_a_photo_and_follows_it(
    live_server, browser, desk_api, retailer_point, tmp_path
):
    lon, lat = retailer_point
    photo_bytes = jpeg((1600, 1200), make_exif(lon=str(lon), lat=str(lat), taken="2026:11:22 08:40:00"))
    photo = tmp_path / "IMG_20261122_084000.jpg"
    photo.write_bytes(photo_bytes)
    phone = phone_at(browser, lon, lat)
    page = phone.page
    try:
        fill_report(
            page,
            live_server.url,
            what="青石镇老街一家烟花店把大量烟花堆在后门过道，堵住了安全出口。",
            place="青石镇老街 12 号后门",
            photo=photo,
            name="李四",
            phone_number="13800000000",
        )
        limits = page.get_by_test_id("photo-limits").inner_text()
        assert "最多 3 张" in limits and "20 MB" in limits and "6400 万像素" in limits
        assert page.get_by_text("可以匿名举报").is_visible()
        assert f"{lon:.5f}" in page.get_by_test_id("picked-place").inner_text()
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "open-report")
        page.locator(".van-uploader").scroll_into_view_if_needed()
        screenshot(page, "open-report-photo")

        started = time.monotonic()
        page.get_by_role("button", name="提交举报").click()
        code_element = page.get_by_test_id("tracking-code")
        code_element.wait_for(timeout=120_000)  # the proof-of-work: ~2^18 hashes in the page's worker
        print(f"proof-of-work and sending: {time.monotonic() - started:.2f} s")  # measured, never asserted
        code = code_element.inner_text().strip()
        assert re.fullmatch(r"[A-Z2-7]{10}", code)
        assert page.get_by_text("请抄写或截图保存查询码").is_visible()
        screenshot(page, "open-report-code")
        page.get_by_role("button", name="复制查询码").click()
        page.get_by_text("查询码已复制").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == code

        # The desk sees the report, with the photo exactly as taken (EXIF and all) and the reporter.
        listed = desk_api("GET", "/api/v1/public-reports").get_json()["items"]
        report = next(item for item in listed if item["code"] == code)
        assert report["photos"] == [hashlib.sha256(photo_bytes).hexdigest()]
        assert report["reporter"]["name"] == "李四" and report["reporter"]["phone"] == "13800000000"
        assert report["place"] == "青石镇老街 12 号后门"

        page.get_by_role("button", name="查看处理进度").click()
        page.get_by_test_id("status-label").filter(has_text="已受理").wait_for()

        triaged = desk_api(
            "POST",
            f"/api/v1/public-reports/{report['id']}/actions",
            json={"base_version": report["version"], "action": "triage", "decision": "to_verify"},
        )
        assert triaged.status_code == 200, triaged.get_json()
        page.reload()
        page.get_by_test_id("status-label").filter(has_text="核查中").wait_for()

        concluded = desk_api(
            "POST",
            f"/api/v1/public-reports/{report['id']}/actions",
            json={
                "base_version": triaged.get_json()["version"],
                "action": "conclude",
                "result": "verified",
                "outcome": "经核查属实，已责令该店当日清理过道、恢复安全出口畅通，并依法立案查处。",
            },
        )
        assert concluded.status_code == 200, concluded.get_json()
        page.goto(f"{live_server.url}/open/track?code={code.lower()}")
        page.get_by_test_id("status-label").filter(has_text="经核查属实").wait_for()
        assert "已责令该店当日清理过道" in page.get_by_test_id("outcome").inner_text()
        # Beijing time on the page, whatever the server's zone: today's date as Shanghai sees it.
        assert datetime.now(SHANGHAI).strftime("%Y-%m-%d") in page.get_by_test_id("status").inner_text()
        body = page.locator("body").inner_text()
        assert "李四" not in body and "13800000000" not in body
        screenshot(page, "open-track")
        assert phone.errors == []

        page.goto(f"{live_server.url}/open/track?code=AAAAAAAAAA")
        assert "未找到该查询码对应的举报" in page.get_by_test_id("problem").inner_text()
        # Chromium logs the API's 404 for the unknown code; nothing else may go wrong.
        assert [e for e in phone.errors if "404" not in e] == []
    finally:
        phone.context.close()


def test_what_the_public_sends_is_shown_as_text_never_as_html(live_server, browser, desk_api, retailer_point):
    phone = phone_at(browser, *retailer_point)
    page = phone.page
    try:
        fill_report(page, live_server.url, what=f"举报内容 {INJECTION}", place=f"地址 {INJECTION}")
        page.get_by_role("button", name="提交举报").click()
        page.get_by_test_id("tracking-code").wait_for(timeout=120_000)
        sent = page.get_by_test_id("sent").inner_text()
        assert INJECTION in sent  # the characters, as typed
        assert page.evaluate("window.__pwned") is None
        assert page.locator("[data-test=sent] img, [data-test=sent] script").count() == 0
        code = page.get_by_test_id("tracking-code").inner_text().strip()

        # The desk's outcome, quoting the report, reaches the public as text too.
        report = next(
            item for item in desk_api("GET", "/api/v1/public-reports").get_json()["items"] if item["code"] == code
        )
        assert report["what"] == f"举报内容 {INJECTION}"
        desk_api(
            "POST",
            f"/api/v1/public-reports/{report['id']}/actions",
            json={
                "base_version": report["version"],
                "action": "triage",
                "decision": "not_safety",
                "outcome": f"您反映的“{INJECTION}”不属于安全生产事项",
            },
        )
        page.goto(f"{live_server.url}/open/track?code={code}")
        outcome = page.get_by_test_id("outcome")
        outcome.wait_for()
        assert INJECTION in outcome.inner_text()
        assert page.evaluate("window.__pwned") is None
        assert page.locator("[data-test=outcome] img, [data-test=outcome] script").count() == 0
        screenshot(page, "open-track-text")
        assert phone.errors == []
    finally:
        phone.context.close()

    # And nowhere in the public pages' sources is anything put into the page as HTML.
    for source in (ROOT / "web" / "open").rglob("*"):
        if source.suffix in (".vue", ".ts", ".html"):
            text = source.read_text()
            assert "v-html" not in text and "innerHTML" not in text and "insertAdjacentHTML" not in text, source


def _inspection_body(session, enterprise_id: uuid.UUID, plan_id: str, inspectors: list[str], fail_general: bool):
    from checklists.service import list_latest, template_for_inspection
    from enterprises.models import Enterprise
    from tests.answers import failing_answer, passing_answer

    enterprise = session.get(Enterprise, enterprise_id)
    latest = list_latest(session, industry=enterprise.industry, subtype=enterprise.subtype)[0]
    template = template_for_inspection(session, latest["code"], latest["version"])
    items = [item for item in template.items if item.applies_to(enterprise.subtype)]
    failing = next(item.code for item in items if not item.major) if fail_general else None
    answers = [failing_answer(item, "a" * 64) if item.code == failing else passing_answer(item) for item in items]
    return {
        "id": str(uuid.uuid4()),
        "enterprise_id": str(enterprise.id),
        "kind": "random",
        "plan_id": plan_id,
        "checklist": {"code": template.code, "version": template.version},
        "inspectors": inspectors,
        "started_at": "2026-11-22T09:30:00+08:00",
        "finished_at": "2026-11-22T10:15:00+08:00",
        "location": None,
        "answers": answers,
        "photos": [],
        "remarks": "双随机抽查",
    }


def settled(item):
    """Wait until a collapse item has finished opening (Vant animates its height, then lets it go)."""
    item.locator(".van-collapse-item__wrapper").evaluate(
        "wrapper => new Promise(done => { const check = () => wrapper.style.height === '' ? done() :"
        " requestAnimationFrame(check); check() })"
    )


def centre(locator):
    locator.evaluate("element => element.scrollIntoView({block: 'center'})")


def test_the_draws_page_shows_a_draw_its_seed_recomputed_and_its_result(live_server, phone, desk_api, live_db):
    from accounts.models import User

    seed = "open-pages-2026-11"
    created = desk_api(
        "POST",
        "/api/v1/plans/random-draw",
        json={
            "count": 3,
            "team_size": 2,
            "window_start": "2026-11-22",
            "window_end": "2026-12-15",
            "seed": seed,
            "industry": "fireworks",
        },
    )
    assert created.status_code == 201, created.get_json()
    draw = created.get_json()
    assert (
        len(draw["enterprise_pool"]) > 21
    )  # Random.sample's set branch for the enterprises, its pool branch for teams
    first = draw["publication"][0]
    team = draw["result"][0]["inspector_ids"]
    inspector = live_db.scalar(select(User.username).where(User.id == uuid.UUID(team[0])))
    body = _inspection_body(live_db, uuid.UUID(first["enterprise_id"]), first["plan_id"], team, fail_general=True)
    inspected = desk_api("POST", "/api/v1/inspections", username=inspector, json=body)
    assert inspected.status_code == 201, inspected.get_json()

    page = phone.page
    page.goto(f"{live_server.url}/open/draws")
    item = page.get_by_test_id("draw").filter(has_text="烟花爆竹").first
    item.wait_for()
    screenshot(page, "open-draws")
    item.locator(".van-collapse-item__title").click()
    assert item.get_by_test_id("seed").inner_text() == seed
    drawn = item.get_by_test_id("drawn")
    drawn.first.wait_for()
    assert drawn.count() == 3
    assert first["enterprise_name"] in drawn.first.inner_text()
    for name in first["inspectors"]:
        assert name in drawn.first.inner_text()
    result = drawn.first.get_by_test_id("result").inner_text()
    assert (
        "2026-11-22 检查完毕" in result and "发现隐患 1 项" in result and "已整改 0 项" in result and "整改中" in result
    )
    assert "尚未检查" in drawn.nth(1).inner_text()
    settled(item)
    centre(drawn.first)
    screenshot(page, "open-draws-result")

    item.get_by_role("button", name="在本机用种子复算").click()
    check = item.get_by_test_id("recompute")
    check.wait_for()
    assert "复算结果与公示一致" in check.inner_text(), check.inner_text()
    centre(check)
    screenshot(page, "open-draws-recompute")
    assert phone.errors == []
