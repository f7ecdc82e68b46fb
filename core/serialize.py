"""Plain-JSON copies of records (times as the API shows them, dates in ISO 8601, UUIDs as strings):
for conflict answers, audit summaries and the sync feed, where no marshmallow schema stands between
the data and the wire; ``json_default`` is also the app's JSON encoder for anything else."""
from __future__ import annotations

import json
from datetime import datetime

from core.times import shown


def json_default(value):
    if isinstance(value, datetime):
        return shown(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def jsonable(value):
    return json.loads(json.dumps(value, default=json_default, ensure_ascii=False))
