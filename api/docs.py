"""The scripts and styles of the Swagger UI (/api/v1/docs) and ReDoc (/api/v1/redoc) pages, served by
the app from the pinned ``openapi-ui-bundles`` package: county networks (政务外网) often reach no CDN."""

from __future__ import annotations

import openapi_ui_bundles
from flask import Blueprint, abort, send_from_directory

PREFIX = "/api/v1/docs/assets"
SWAGGER_UI_URL = f"{PREFIX}/swagger-ui/"
REDOC_URL = f"{PREFIX}/redoc/redoc.standalone.js"

_BUNDLES = {"swagger-ui": openapi_ui_bundles.swagger_ui.static_path, "redoc": openapi_ui_bundles.redoc.static_path}

blp = Blueprint("docs_assets", __name__)


@blp.route(f"{PREFIX}/<tool>/<path:filename>")
def asset(tool: str, filename: str):
    if tool not in _BUNDLES:
        abort(404)
    return send_from_directory(_BUNDLES[tool], filename)
