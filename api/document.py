"""``python -m api.document [FILE]``: the OpenAPI document, written without a database or a server.

scripts/web.sh generates the web apps' typed API client from it (openapi-typescript). The app is made
with a database URL nothing connects to: building the document reads only the code's schemas."""

from __future__ import annotations

import json
import sys
import tempfile

from api.app import create_app
from config.settings import Settings

OFFLINE_DATABASE_URL = "postgresql://document@127.0.0.1:9/none"


def openapi_document() -> dict:
    with tempfile.TemporaryDirectory() as photos:
        settings = Settings.from_env({}, database_url=OFFLINE_DATABASE_URL, photo_root=photos)
        app = create_app(settings)
        response = app.test_client().get("/api/v1/openapi.json")
        assert response.status_code == 200, response.status_code
        return response.get_json()


def main(argv: list[str]) -> None:
    text = json.dumps(openapi_document(), ensure_ascii=False, indent=1, sort_keys=True)
    if argv:
        with open(argv[0], "w", encoding="utf-8") as out:
            out.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
