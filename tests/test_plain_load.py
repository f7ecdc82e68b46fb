"""core.plain_load: the plain path loads exactly what marshmallow loads and refuses nothing itself —
every input marshmallow refuses, or that the plain path cannot vouch for, goes to marshmallow, which
gives its own errors. Tried on every schema a push loads, with near-valid changes (one or two parts
of a valid change replaced, removed or added) as well as valid ones."""

import copy
import uuid
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from core.plain_load import plain_first, plain_loader
from core.times import judged_at
from sync.schemas import ENTITY_OPS, BatchIn, ChangeIn

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
SHA = "ab" * 32
ID = "0b3e8f8a-4c1d-4f5e-9a7b-2c6d8e0f1a2b"

INSPECTION = {
    "enterprise_id": ID,
    "kind": "routine",
    "plan_id": None,
    "checklist": {"code": "fireworks-retail", "version": 1},
    "inspectors": [ID, "1c3e8f8a-4c1d-4f5e-9a7b-2c6d8e0f1a2b"],
    "started_at": "2026-11-22T08:00:00+08:00",
    "finished_at": "2026-11-22T08:40:00+08:00",
    "location": {"lon": 116.4, "lat": 39.9, "crs": "gcj02", "accuracy_m": 8},
    "answers": [
        {"item": "1.1", "result": "pass"},
        {"item": "1.2", "result": "fail", "value": 3, "note": "超量", "photos": [SHA]},
    ],
    "photos": [SHA],
    "remarks": "现场检查",
    "supersedes": None,
}
PATROL = {
    "grid_id": ID,
    "started_at": "2026-11-22T07:30:00+08:00",
    "ended_at": "2026-11-22T08:20:00+08:00",
    "track": {
        "crs": "gcj02",
        "coordinates": [[107.72, 31.09], [107.7201, 31.0902], [107.7203, 31.0905]],
        "times": ["2026-11-22T07:30:00+08:00", "2026-11-22T07:31:00+08:00", "2026-11-22T07:32:00+08:00"],
    },
    "visits": [
        {
            "enterprise_id": ID,
            "at": "2026-11-22T07:40:00+08:00",
            "location": {"lon": 107.72, "lat": 31.09},
            "outcome": "normal",
            "note": "",
            "photos": [],
        }
    ],
    "notes": "",
    "supersedes": None,
}
HAZARD = {
    "enterprise_id": ID,
    "level": "general",
    "description": "门口堆放杂物",
    "location": None,
    "photos": [SHA],
    "found_at": "2026-11-22T08:10:00+08:00",
}
VALID = {
    ("inspection", "create"): INSPECTION,
    ("patrol", "create"): PATROL,
    ("hazard", "create"): HAZARD,
}

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(
        [
            "",
            ID,
            ID.upper(),
            "{" + ID + "}",
            "routine",
            "normal",
            "wgs84",
            "pass",
            SHA,
            "2026-11-22T08:00:00+08:00",
            "2026-11-22T08:00:00Z",
            "2026-11-22T08:00:00",
            "2026-11-29T08:00:00+08:00",
            "2026-11-22T08:00:00+15:00",
            "1999-12-31T23:59:59+08:00",
            "x" * 5001,
        ]
    ),
    st.lists(st.sampled_from([ID, SHA, 1, None, "x"]), max_size=3),
    st.just({"a": 1}),
    st.just([[107.72, 31.09], [200, 31.0]]),
)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, part in value.items():
            yield from _paths(part, path + (key,))
    elif isinstance(value, list):
        for n, part in enumerate(value):
            yield from _paths(part, path + (n,))


def _mutated(base):
    """``base`` with one part replaced, removed, or a key added beside it."""
    paths = [p for p in _paths(base) if p]

    def apply(args):
        path, how, new = args
        out = copy.deepcopy(base)
        parent = out
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if how == "replace":
            parent[last] = new
        elif how == "remove":
            del parent[last]
        elif isinstance(parent, dict):
            parent["unexpected"] = new
        return out

    return st.tuples(st.sampled_from(paths), st.sampled_from(["replace", "remove", "add"]), anything).map(apply)


def near(base):
    return st.one_of(st.just(base), _mutated(base), _mutated(base).flatmap(_mutated))


def _outcome(load, data):
    try:
        return "ok", load(data)
    except ValidationError as err:
        return "error", err.messages


def _same(schema: Schema, data) -> None:
    with judged_at(NOW):
        assert _outcome(plain_first(schema), data) == _outcome(schema.load, data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(VALID)).flatmap(lambda key: st.tuples(st.just(key), near(VALID[key]))))
def test_each_data_schema_loads_alike(case):
    key, data = case
    _same(ENTITY_OPS[key](), data)


@settings(max_examples=300, deadline=None)
@given(near({"entity": "hazard", "op": "create", "id": ID, "recorded_at": "2026-11-22T08:10:00+08:00", "data": HAZARD}))
def test_the_change_envelope_loads_alike(change):
    _same(ChangeIn(), change)


@settings(max_examples=200, deadline=None)
@given(near({"batch_id": "b-1", "sent_at": "2026-11-22T08:50:00+08:00", "changes": [{"entity": "hazard"}, {}]}))
def test_the_batch_loads_alike(batch):
    _same(BatchIn(), batch)


def test_valid_changes_take_the_plain_path():
    """Else the plain path would be a silent no-op: every push paid marshmallow's full price."""
    with judged_at(NOW):
        for key, data in VALID.items():
            schema = ENTITY_OPS[key]()
            assert plain_loader(schema)(data) == schema.load(data), key
        change = {"entity": "patrol", "op": "create", "id": ID, "recorded_at": None, "data": PATROL}
        assert plain_loader(ChangeIn())(change) == ChangeIn().load(change)


def test_schema_hooks_run_on_the_plain_path():
    class Shifted(Schema):
        low = fields.Integer(required=True)
        high = fields.Integer(load_default=10, validate=validate.Range(max=100))
        tag = fields.String(data_key="label", attribute="name", load_default=None)

        @validates_schema
        def ordered(self, data, **kwargs):
            if data["low"] > data["high"]:
                raise ValidationError("low above high", "low")

        @post_load
        def widen(self, data, **kwargs):
            return data | {"width": data["high"] - data["low"]}

    schema = Shifted()
    assert plain_loader(schema)({"low": 1, "label": "x"}) == {"low": 1, "high": 10, "name": "x", "width": 9}
    assert plain_loader(schema)({"low": 50, "high": 20}) is None  # the schema validator refused it
    assert plain_loader(schema)({"low": 1, "high": 101}) is None  # the field validator refused it
    assert plain_loader(schema)({"low": 1, "tag": "x"}) is None  # unknown key: data_key is "label"
    for data in ({"low": 50, "high": 20}, {"low": 1, "high": 101}, {"low": 1, "tag": "x"}, {"low": "1"}):
        _same(schema, data)


def test_unknown_ids_are_never_guessed():
    loaded = plain_loader(ChangeIn())({"entity": "hazard", "op": "create", "id": str(uuid.uuid4()), "data": {}})
    assert loaded is not None and isinstance(loaded["id"], uuid.UUID) and loaded["recorded_at"] is None
