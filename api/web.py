"""The web apps built from web/ (scripts/web.sh → web/dist): the field app at /app/, the desk console
at /console/ and the public pages at /open/, served as static files beside the API.

Each entry is a single-page app: a path that is no built file gets the entry's index.html, so a
reload on /app/hazards/… shows the page the router draws. Hashed assets (Vite names them by content)
are cached for a year; index.html and the service worker must be re-read every time, or a phone
would keep an old shell forever. These routes are plain Flask, not flask-smorest: they are no part
of the API and stay out of the OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, current_app, redirect, send_from_directory
from werkzeug.exceptions import NotFound

ENTRIES = ("app", "console", "open")
DEFAULT_DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
# Vite's content hash in a file name (base64url, so it may hold - and _): index-B3x9_aZk.js,
# index-X1TlhB--.css, workbox-4f1c2a9e.js.
_HASHED = re.compile(r"-[A-Za-z0-9_-]{8}\.(?:js|css|woff2?|png|svg|jpg|webp)$")
# Never cached: what decides which hashed files a phone runs.
_NO_CACHE = {"index.html", "sw.js", "registerSW.js", "manifest.webmanifest"}
YEAR = 365 * 24 * 3600

blp = Blueprint("web", __name__)

_MISSING = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>安巡：页面尚未构建</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.6">
<h1>页面尚未构建</h1><p>web/dist 里没有 {entry}/index.html。请运行 <code>make run</code>（或 <code>scripts/web.sh</code>）构建前端，再刷新此页。</p>
<p>The web apps are not built: run <code>make run</code> or <code>scripts/web.sh</code>.</p></body></html>"""


def dist_root() -> Path:
    return Path(current_app.config.get("ANXUN_WEB_DIST") or DEFAULT_DIST)


def _send(folder: Path, name: str):
    response = send_from_directory(folder, name, max_age=0)
    base = name.rsplit("/", 1)[-1]
    if base in _NO_CACHE:
        response.headers["Cache-Control"] = "no-cache"
    elif _HASHED.search(base):
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


def _serve(entry: str, path: str):
    folder = dist_root() / entry
    if not (folder / "index.html").is_file():
        return (
            _MISSING.format(entry=entry),
            503,
            {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Retry-After": "60"},
        )
    if path:
        try:
            return _send(folder, path)
        except NotFound:
            # A missing asset is a 404 (a stale page asking for an old hash must not get HTML as script).
            if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
                raise
    return _send(folder, "index.html")


def _register(entry: str) -> None:
    def page(path: str = ""):
        return _serve(entry, path)

    blp.add_url_rule(f"/{entry}/", f"{entry}_index", page)
    blp.add_url_rule(f"/{entry}/<path:path>", f"{entry}_page", page)


for _entry in ENTRIES:
    _register(_entry)


@blp.route("/")
def root():
    """The server's front door leads a phone to the field app."""
    return redirect("/app/", code=302)
