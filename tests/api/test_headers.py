"""Headers every client and proxy relies on, and the documentation pages working with no internet."""

import re

import pytest


def test_the_login_answer_is_not_stored_by_any_cache(client):
    response = client.post(
        "/api/v1/auth/login", json={"username": "desk", "password": "anxun-demo", "device": {"id": "headers-test"}}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/health"),
        ("GET", "/api/v1/no-such-thing"),
        ("POST", "/api/v1/health"),
        ("GET", "/api/v1/enterprises"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/docs"),
    ],
)
def test_every_answer_forbids_content_sniffing(client, method, path):
    assert client.open(path, method=method).headers["X-Content-Type-Options"] == "nosniff"


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.post("/api/v1/health")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(re.split(r",\s*", response.headers["Allow"])) >= {"GET", "HEAD"}
    assert "POST" not in response.headers["Allow"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic eDp5"}])
def test_unauthorized_answers_name_the_bearer_scheme(client, headers):
    response = client.get("/api/v1/enterprises", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_failed_login_names_the_bearer_scheme_too(client):
    response = client.post(
        "/api/v1/auth/login", json={"username": "desk", "password": "wrong", "device": {"id": "headers-test"}}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("page", ["/api/v1/docs", "/api/v1/redoc"])
def test_documentation_pages_load_their_scripts_and_styles_from_the_app(client, page):
    """County networks (政务外网) often reach no CDN: every script and style the page names is served
    by the app itself, from the pinned package."""
    response = client.get(page)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assets = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets), html
    for asset in assets:
        assert asset.startswith("/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.data) > 10_000, asset
        served.close()
