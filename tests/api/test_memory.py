"""The app as gunicorn imports it (wsgi.py) runs with the collector set for batches (api/memory.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from api.memory import THRESHOLDS

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_app_freezes_its_start_up_objects_and_collects_young_objects_less_often(server_url):
    # The app is built without a connection: the server only names where the database would be.
    probe = "import gc, json, wsgi; print(json.dumps([gc.get_threshold(), gc.get_freeze_count()]))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=server_url),
        capture_output=True,
        text=True,
        check=True,
    )
    thresholds, frozen = json.loads(out.stdout.splitlines()[-1])
    assert tuple(thresholds) == THRESHOLDS
    assert frozen > 10_000  # Flask, SQLAlchemy, marshmallow and every schema and mapper of the app
