"""Browser tests of the web apps (web/, served by Flask from web/dist): Debian's Chromium driven by
Playwright, against a real HTTP server on a real PostGIS.

- ``live_server``: the app on its own fresh copy of the demo database, served by werkzeug in a thread
  (real sockets, real commits); ``.url``, ``.app``, ``.clock``, ``.database_url``.
  Settings come from ``server_settings`` (a dict of overrides, empty unless a test module overrides it).
- ``browser``: one Chromium for the session (/usr/bin/chromium, the flags the machine needs; Playwright's
  own browser download is never used).
- ``phone``: a fresh browser context at phone size (360×640, touch), its page, and what went wrong in it
  (console errors, uncaught exceptions): ``phone.page``, ``phone.errors``, ``phone.context``.
- ``screenshot(page, name)`` writes docs/screens/<name>.png (the README shows them)."""
from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import START, clone_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
SCREENS = ROOT / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying Google's hosts on this closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture(scope="session")
def built_web():
    for entry in ("app", "console", "open"):
        if not (DIST / entry / "index.html").is_file():
            pytest.fail(f"web/dist/{entry} is not built: run scripts/web.sh (make test does)")
    return DIST


@dataclass
class LiveServer:
    url: str
    app: object
    clock: object
    database_url: str


@pytest.fixture
def server_settings():
    """Overrides of the live server's Settings; a test module redefines this fixture to change them."""
    return {}


@pytest.fixture
def live_server(server_url, template_url, tmp_path, built_web, server_settings):
    from werkzeug.serving import make_server

    from api.app import create_app
    from config.settings import Settings
    from core.clock import FixedClock

    url = clone_database(server_url, template_url)
    clock = FixedClock(START)
    settings = Settings.from_env({}, database_url=url, testing=True, photo_root=str(tmp_path / "photos"),
                                  **server_settings)
    app = create_app(settings, clock=clock)
    app.config["ANXUN_WEB_DIST"] = str(built_web)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, clock, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["anxun"].engine.dispose()
        drop_database(server_url, url)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run scripts/browser-packages.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Phone:
    context: object
    page: object
    errors: list[str] = field(default_factory=list)


def open_phone(browser, **overrides) -> Phone:
    """A fresh context at phone size whose clock starts at the tests' START (the server's FixedClock),
    collecting console errors and uncaught exceptions."""
    context = browser.new_context(**(PHONE | overrides))
    page = context.new_page()
    phone = Phone(context, page)
    page.on("console", lambda msg: msg.type == "error" and phone.errors.append(f"console: {msg.text}"))
    page.on("pageerror", lambda exc: phone.errors.append(f"page: {exc}"))
    return phone


@pytest.fixture
def phone(browser):
    phone = open_phone(browser)
    try:
        yield phone
    finally:
        phone.context.close()


def screenshot(page, name: str) -> Path:
    """docs/screens/<name>.png of what the page shows now (taken by the tests, linked in the README)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def empty_dist(tmp_path):
    """A web/dist with nothing built in it."""
    folder = tmp_path / "dist"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
