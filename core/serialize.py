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


_PLAIN = (str, int, float, bool, type(None))


def jsonable(value):
    """``json.loads(json.dumps(value, default=json_default))``, built directly: a push makes one of every
    inspection's answers, and the round trip through text cost more than checking them."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict or kind is list or kind is tuple:
        if kind is dict:
            if not all(type(k) is str for k in value):
                return _round_trip(value)  # keys json would rewrite ("1", "true", "null")
            return {k: jsonable(v) for k, v in value.items()}
        return [jsonable(v) for v in value]
    return _round_trip(value)


def _round_trip(value):
    return json.loads(json.dumps(value, default=json_default, ensure_ascii=False))
