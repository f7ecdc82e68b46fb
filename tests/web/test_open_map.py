"""With map tiles set (ANXUN_MAP_TILE_URL), the report page shows a Leaflet map over the district and
a tap on it picks the place. The tiles here are one picture in a data: URL, so no network is needed."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageDraw

from tests.web.conftest import screenshot
from tests.web.test_open_pages import live_db, phone_at, retailer_point  # noqa: F401 (fixtures)


def tile() -> str:
    image = Image.new("RGB", (256, 256), (236, 240, 228))
    draw = ImageDraw.Draw(image)
    draw.line([(0, 128), (256, 128)], fill=(255, 255, 255), width=6)
    draw.line([(96, 0), (96, 256)], fill=(250, 222, 160), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def server_settings():
    return {"map_tile_url": tile(), "map_tile_attribution": "测试底图"}


def test_a_tap_on_the_map_picks_the_place(live_server, browser, retailer_point):  # noqa: F811
    phone = phone_at(browser, *retailer_point)
    page = phone.page
    try:
        page.goto(f"{live_server.url}/open/report")
        map_element = page.locator(".leaflet-container")
        map_element.wait_for()
        assert page.get_by_text("在地图上点击发生地点").is_visible()
        assert page.get_by_test_id("picked-place").count() == 0
        map_element.scroll_into_view_if_needed()
        box = map_element.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        picked = page.get_by_test_id("picked-place")
        picked.wait_for()
        lon, lat = (float(v) for v in picked.inner_text().split("：")[1].split("，")[:2])
        config = page.evaluate("fetch('/api/v1/public/config').then(r => r.json())")
        bounds = config["map"]["bounds"]
        assert bounds["west"] <= lon <= bounds["east"] and bounds["south"] <= lat <= bounds["north"]
        assert page.locator(".picked-place").count() == 1
        screenshot(page, "open-report-map")
        assert phone.errors == []
    finally:
        phone.context.close()
