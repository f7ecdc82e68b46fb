"""Plain-JSON copies of records (times in ISO 8601, UUIDs as strings): for conflict answers, audit
summaries and the sync feed, where no marshmallow schema stands between the data and the wire."""
from __future__ import annotations

import json


def _default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def jsonable(value):
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))
