"""A grid worker's day in the field app, in Chromium against a real server on PostGIS (issue 18):
offline from the start of the patrol, a GPS track and a visit, a hazard with a photo from the camera,
the page reloaded while offline (it comes back from the service worker with the drafts and the
outbox), then online: the server holds every record exactly once — also when the answer to the first
push is lost — and the photo's bytes hash to its name; an upload cut mid-way resumes where it stopped."""

from __future__ import annotations

import hashlib

from tests.web.conftest import CHUNK_BYTES, login, photo_file, query, run_jobs, screenshot


def _enterprise(server, name_like: str):
    return query(
        server,
        "SELECT id::text, name, ST_X(location) AS lon, ST_Y(location) AS lat FROM enterprises "
        "WHERE name LIKE :n ORDER BY name LIMIT 1",
        n=name_like,
    )[0]


def test_offline_patrol_and_hazard_with_photo_reach_the_server_exactly_once(live_server, phone, tmp_path):
    run_jobs(live_server, "patrol_tasks")
    page, context = phone.page, phone.context
    retailer = _enterprise(live_server, "石桥烟花爆竹零售点%")
    context.set_geolocation({"longitude": retailer.lon - 0.002, "latitude": retailer.lat - 0.002, "accuracy": 8})
    login(phone, live_server, "gridworker1")
    page.get_by_test_id("task").first.wait_for()
    screenshot(page, "field-tasks")
    page.get_by_text("企业", exact=True).last.click()
    page.get_by_test_id("enterprise").first.wait_for()
    screenshot(page, "field-enterprises")
    page.get_by_role("tab", name="地图").click()
    page.locator(".risk-map path.leaflet-interactive").first.wait_for()
    screenshot(page, "field-map")

    # No signal from here on.
    context.set_offline(True)
    page.get_by_text("巡查", exact=True).last.click()
    page.get_by_test_id("start-patrol").click()
    page.get_by_test_id("offline-banner").wait_for()
    for step in range(1, 5):
        context.set_geolocation(
            {
                "longitude": retailer.lon - 0.002 + step * 0.0005,
                "latitude": retailer.lat - 0.002 + step * 0.0005,
                "accuracy": 8,
            }
        )
        page.wait_for_function(
            f"document.querySelector('[data-test=track-count] .van-cell__value').innerText.startsWith('{step + 1}')",
            timeout=20_000,
        )
    screenshot(page, "field-patrol")

    page.get_by_test_id("to-visit").filter(has=page.get_by_text(retailer.name, exact=True)).click()
    page.get_by_text("发现隐患").click()
    page.fill("textarea[name=note]", "仓库堆放超量")
    page.get_by_test_id("save-visit").click()
    # The visit leads on to reporting the hazard it found.
    page.get_by_test_id("hazard-description").locator("textarea").fill("零售点内堆放烟花超出限量，且未设置灭火器")
    photo = photo_file(tmp_path)
    page.get_by_test_id("hazard-photo").set_input_files(str(photo))
    page.locator(".thumb img").first.wait_for()
    screenshot(page, "field-hazard-report")
    page.get_by_test_id("save-hazard").click()
    page.get_by_text("已走访").first.wait_for()

    # Reloaded with no network: the shell comes from the service worker, the patrol from its draft,
    # the hazard from the outbox.
    page.reload()
    page.get_by_test_id("offline-banner").wait_for()
    page.get_by_test_id("visit").filter(has=page.get_by_text(retailer.name, exact=True)).wait_for()
    assert page.get_by_test_id("track-count").locator(".van-cell__value").inner_text() == "5 个点"
    page.get_by_test_id("finish-patrol").click()
    page.get_by_role("button", name="确认").click()
    page.get_by_text("同步", exact=True).last.click()
    page.get_by_test_id("change-queued").nth(1).wait_for()
    # The hazard went out once before the signal was noticed gone: its batch waits, with its id, to go again.
    assert page.get_by_test_id("change-queued").count() == 2
    assert page.get_by_test_id("count-photos").inner_text().endswith("1")
    page.get_by_test_id("sync-message").filter(has_text="无信号").wait_for()
    screenshot(page, "field-outbox-offline")

    # Back online: the first push is applied but its answer is lost; the batch goes again under the
    # same id and the server answers what it answered the first time.
    pushes = []

    def lose_first_answer(route):
        pushes.append(route.request.post_data_json if route.request.headers.get("content-encoding") != "gzip" else None)
        response = route.fetch()
        if len(pushes) == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/sync/push", lose_first_answer)
    # The connection breaks after the server took the photo's second part: the phone asks HEAD what
    # arrived and goes on from there, sending nothing twice.
    puts = []

    def cut_second_part(route):
        puts.append(route.request.headers.get("content-range"))
        response = route.fetch()
        if len(puts) == 2:
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route(
        "**/api/v1/photos/*",
        lambda route: cut_second_part(route) if route.request.method == "PUT" else route.continue_(),
    )
    context.set_offline(False)
    page.get_by_test_id("sync-now").click()
    page.get_by_test_id("change-applied").nth(1).wait_for(timeout=60_000)
    page.get_by_test_id("count-photos").filter(has_text="0").wait_for(timeout=60_000)
    screenshot(page, "field-outbox-synced")
    assert len(pushes) >= 2

    patrols = query(live_server, "SELECT id, ST_NPoints(track) AS points FROM patrols")
    assert len(patrols) == 1 and patrols[0].points == 5
    visits = query(live_server, "SELECT enterprise_id::text, outcome FROM patrol_visits")
    assert [(v.enterprise_id, v.outcome) for v in visits] == [(retailer.id, "hazard_found")]
    hazards = query(
        live_server, "SELECT id, description, photos, source FROM hazards WHERE enterprise_id = :e", e=retailer.id
    )
    assert len(hazards) == 1 and hazards[0].description.startswith("零售点内堆放烟花")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert list(hazards[0].photos) == [sha]
    stored = query(live_server, "SELECT sha256, size_bytes AS size FROM photos")
    assert [(s.sha256, s.size) for s in stored] == [(sha, photo.stat().st_size)]
    size = photo.stat().st_size
    parts = [f"bytes {start}-{min(start + CHUNK_BYTES, size) - 1}/{size}" for start in range(0, size, CHUNK_BYTES)]
    assert puts == parts, puts  # after the cut, on from the third part: no part sent twice
    assert len(parts) >= 3
    assert phone.errors == [] or all("Failed to load resource" in e for e in phone.errors), phone.errors
