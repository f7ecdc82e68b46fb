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

import os
import shutil
import threading
from datetime import datetime, timedelta
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.clock import SHANGHAI
from tests.conftest import clone_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
SCREENS = ROOT / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying Google's hosts on this closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
    "permissions": ["geolocation"],
    "geolocation": {"longitude": 107.8, "latitude": 30.7, "accuracy": 10},
}


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


# Photos go up in parts of 64 KiB, so a test photo of a few hundred KiB is a resumable upload of several parts.
CHUNK_BYTES = 64 * 1024


@pytest.fixture
def server_settings():
    """Overrides of the live server's Settings; a test module redefines this fixture to change them."""
    return {}


@pytest.fixture
def live_server(server_url, template_url, tmp_path, built_web, server_settings):
    from werkzeug.serving import make_server

    from api.app import create_app
    from config.settings import Settings
    from core.clock import Clock

    url = clone_database(server_url, template_url)
    # The browser's clock is the machine's, so the server's is too: due dates, deadlines and "today" agree
    # between them, and so does the order of events the loop rules compare (a recheck begun after the
    # submission it judges). The demo district itself does not depend on the day.
    clock = Clock()
    settings = Settings.from_env(
        {"ANXUN_PHOTO_CHUNK_BYTES": str(CHUNK_BYTES)},
        database_url=url,
        testing=True,
        photo_root=str(tmp_path / "photos"),
        **server_settings,
    )
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
        app.extensions["anxun"].dispose()
        drop_database(server_url, url)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run scripts/browser-packages.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # The apps mark what tests look for with data-test="…".
        playwright.selectors.set_test_id_attribute("data-test")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def query(server: LiveServer, sql: str, **params) -> list:
    """Rows of a query on the live server's database (what the server holds, read apart from the app)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def run_jobs(server: LiveServer, *names: str) -> None:
    """Runs scheduled jobs (patrol and self-inspection tasks) on the live server's database, as the scheduler would."""
    from jobs import tasks

    services = server.app.extensions["anxun"]
    with services.session_factory.begin() as session:
        if "patrol_tasks" in names:
            tasks.create_patrol_tasks(session, server.clock, services.settings)
        if "self_inspection_tasks" in names:
            tasks.create_self_inspection_tasks(session, server.clock, services.settings)


@dataclass
class Phone:
    context: object
    page: object
    errors: list[str] = field(default_factory=list)


def open_phone(browser, **overrides) -> Phone:
    """A fresh context at phone size (location allowed), collecting console errors and uncaught exceptions."""
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
        if os.environ.get("ANXUN_WEB_FAILSHOT"):
            phone.page.screenshot(path=os.environ["ANXUN_WEB_FAILSHOT"], full_page=True)
            print("phone errors:", phone.errors)
        phone.context.close()


def days_ahead(days: int) -> str:
    """A date (YYYY-MM-DD) some days after today in Beijing — the day the pages show — for deadlines,
    plan windows and the dates a page is expected to show (the machine's own day is UTC's: from 16:00
    UTC Beijing is already a day ahead)."""
    return (datetime.now(SHANGHAI).date() + timedelta(days=days)).isoformat()


def screenshot(page, name: str) -> Path:
    """docs/screens/<name>.png of what the page shows now (taken by the tests, linked in the README)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    # Toasts that happen to be fading out are no part of the screen being shown.
    page.screenshot(path=str(path), style=".van-toast { display: none !important; }", animations="disabled")
    return path


def login(phone: Phone, server: LiveServer, username: str) -> None:
    """Signs in on the field app and waits for the first pull and for the service worker to control the page."""
    page = phone.page
    page.goto(f"{server.url}/app/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "anxun-demo")
    page.click("button[type=submit]")
    page.get_by_test_id("sync-message").filter(has_text="已是最新").wait_for(timeout=60_000)
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=60_000)


def photo_file(tmp_path: Path, name: str = "IMG_0001.jpg", size=(480, 360)) -> Path:
    """A real camera-like JPEG: noisy pixels (a few hundred KiB, several upload parts) and EXIF (time, GPS)."""
    import io
    import os

    from PIL import Image

    from tests.evidence.images import make_exif

    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=make_exif(taken="2026:11:22 09:30:15"))
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def empty_dist(tmp_path):
    """A web/dist with nothing built in it."""
    folder = tmp_path / "dist"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
