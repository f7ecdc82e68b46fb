"""How Flask serves web/dist (api/web.py): SPA fallback per entry, long caching for hashed assets,
no caching for index.html and the service worker, a clear page when nothing is built, and none of it
in the OpenAPI document."""

from __future__ import annotations

import re

from tests.web.conftest import DIST


def _asset_of(html: str) -> str:
    return re.search(r'src="(/app/assets/[^"]+\.js)"', html).group(1)


def test_entries_serve_their_index_without_caching(client, built_web):
    client.application.config["ANXUN_WEB_DIST"] = str(built_web)
    for entry, title in (("app", "安巡 外勤"), ("console", "安巡 内勤工作台"), ("open", "安巡 公众服务")):
        response = client.get(f"/{entry}/")
        assert response.status_code == 200
        assert f"<title>{title}</title>" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-cache"


def test_a_route_of_the_app_falls_back_to_its_index(client, built_web):
    client.application.config["ANXUN_WEB_DIST"] = str(built_web)
    response = client.get("/app/patrol/123")
    assert response.status_code == 200
    assert "<title>安巡 外勤</title>" in response.get_data(as_text=True)
    assert client.get("/app").status_code in (301, 308)


def test_hashed_assets_are_cached_for_a_year_and_the_worker_never(client, built_web):
    client.application.config["ANXUN_WEB_DIST"] = str(built_web)
    asset = _asset_of(client.get("/app/").get_data(as_text=True))
    response = client.get(asset)
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    worker = client.get("/app/sw.js")
    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"


def test_every_built_asset_of_each_entry_is_cached_as_immutable(client, built_web):
    client.application.config["ANXUN_WEB_DIST"] = str(built_web)
    for entry in ("app", "console", "open"):
        for path in (built_web / entry / "assets").iterdir():
            response = client.get(f"/{entry}/assets/{path.name}")
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", path.name


def test_a_missing_asset_is_404_not_the_page(client, built_web):
    client.application.config["ANXUN_WEB_DIST"] = str(built_web)
    assert client.get("/app/assets/index-gone1234.js").status_code == 404
    assert client.get("/app/nothing.png").status_code == 404


def test_without_a_build_the_page_says_how_to_make_one(client, empty_dist):
    client.application.config["ANXUN_WEB_DIST"] = str(empty_dist)
    response = client.get("/app/")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "页面尚未构建" in text and "scripts/web.sh" in text


def test_the_web_routes_are_not_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert all(path.startswith("/api/v1/") for path in paths)
    assert DIST.name == "dist"
