"""The OpenAPI document agrees with the contract, docs/SYNC_PROTOCOL.md: the entities and ops a phone
pushes, the result statuses, the hazard and task actions, the field names of the payloads of §2 and
of the push and pull envelopes, and the fields §2 promises in pulled records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = (ROOT / "docs" / "SYNC_PROTOCOL.md").read_text(encoding="utf-8")
# The server's extensions of the contract (docs/sync.md, "Extensions of the contract"): more hazard
# actions and the signature entity. The contract itself stays the shared text word for word.
SYNC_NOTES = (ROOT / "docs" / "sync.md").read_text(encoding="utf-8")
EXTENDED = SYNC_NOTES[SYNC_NOTES.index("**Extensions of the contract**") : SYNC_NOTES.index("## Pull")]


@pytest.fixture(scope="module")
def schemas():
    from api.app import create_app
    from config.settings import Settings

    # The document needs no database: the engine is made but never connects.
    app = create_app(Settings.from_env({}, database_url="postgresql://document@localhost:1/none", testing=True))
    return app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _leaves(schemas, union_name: str) -> list[dict]:
    """Every object schema a union (and the unions it maps to) may be."""
    schema = schemas[union_name]
    if "oneOf" not in schema:
        return [schema]
    return [leaf for ref in schema["oneOf"] for leaf in _leaves(schemas, _name(ref["$ref"]))]


def _properties(schemas, schema: dict, seen=()) -> set[str]:
    """Property names of a schema and of every schema nested in it."""
    names = set()
    for spec in [schema, *schema.get("oneOf", []), *schema.get("anyOf", []), *schema.get("allOf", [])]:
        if "$ref" in spec and _name(spec["$ref"]) not in seen:
            names |= _properties(schemas, schemas[_name(spec["$ref"])], (*seen, _name(spec["$ref"])))
        if spec.get("type") == "array" and "items" in spec:
            names |= _properties(schemas, spec["items"], seen)
        for name, prop in spec.get("properties", {}).items():
            names |= {name} | _properties(schemas, prop, seen)
    return names


def _section(title: str, end: str) -> str:
    start = PROTOCOL.index(title)
    return PROTOCOL[start : PROTOCOL.index(end, start)]


def _block_after(marker: str) -> str:
    """The JSON block after ``marker`` in the contract, or else in its extensions."""
    text = PROTOCOL if marker in PROTOCOL else EXTENDED
    start = text.index(marker)
    opening = text.index("```json\n", start) + len("```json\n")
    return text[opening : text.index("```", opening)]


def _keys(block: str) -> set[str]:
    return set(re.findall(r'"([a-z_]+)":', block))


def _push_change(schemas, entity: str, op: str) -> dict:
    return next(
        leaf
        for leaf in _leaves(schemas, "PushChange")
        if leaf["properties"]["entity"]["enum"] == [entity] and leaf["properties"]["op"]["enum"] == [op]
    )


def _data(schemas, entity: str, op: str) -> dict:
    return schemas[_name(_push_change(schemas, entity, op)["properties"]["data"]["$ref"])]


def test_the_entities_and_ops_a_phone_pushes(schemas):
    table = _section("### Entities a phone can push", "Hazards found by")
    documented = {
        m[0]: set(re.findall(r"[a-z]+", m[1]))
        for m in re.findall(r"^\s*\| `([a-z_]+)` \| ([a-z, ]+) \|", table + EXTENDED, re.M)
    }
    described: dict[str, set] = {}
    for leaf in _leaves(schemas, "PushChange"):
        described.setdefault(leaf["properties"]["entity"]["enum"][0], set()).add(leaf["properties"]["op"]["enum"][0])
    assert documented == described and documented


def test_the_result_statuses(schemas):
    rules = _section("1. **One result per change, in order.**", "2. **Changes are independent.**")
    documented = set(re.findall(r"^   - `([a-z]+)` —", rules, re.M))
    assert (
        documented
        == set(schemas["PushResult"]["discriminator"]["mapping"])
        == {"applied", "duplicate", "conflict", "rejected"}
    )
    example = _block_after("Answer `200`:")
    result_fields = set().union(*(set(leaf["properties"]) for leaf in _leaves(schemas, "PushResult")))
    assert _keys(example) - {
        "batch_id",
        "server_time",
        "clock_skew_seconds",
        "results",
        "missing_photos",
    } <= result_fields | set(schemas["FieldErrorOut"]["properties"])
    assert {"batch_id", "server_time", "clock_skew_seconds", "results", "missing_photos"} == set(
        schemas["PushOut"]["properties"]
    )


def test_the_hazard_and_task_actions_and_what_they_need(schemas):
    table = _section("`hazard` transition — `data.action`", "Every transition may carry")
    actions = set(re.findall(r"^\| `([a-z]+)` \(", table, re.M))
    extended = set(re.findall(r"^\s*\| `([a-z_]+)` \(", EXTENDED, re.M))
    transition = _data(schemas, "hazard", "transition")
    assert actions | extended == set(transition["properties"]["action"]["enum"]) and actions and not actions & extended
    needs = set(
        re.findall(
            r"`([a-z_]+)`", " ".join(row.rsplit("|", 2)[-2] for row in table.splitlines() if row.startswith("| `"))
        )
    )
    five = set(re.findall(r"`five` = `\{([a-z_, ]+)\}`", table)[0].replace(" ", "").split(","))
    assert needs - five <= set(transition["properties"])
    assert five == set(schemas[_name(transition["properties"]["five"]["anyOf"][0]["$ref"])]["properties"])
    assert {"note", "photos", "location"} <= set(transition["properties"])
    task = re.search(r'`task` transition: `\{"action": "([a-z |]+)"', PROTOCOL).group(1)
    assert set(task.split(" | ")) == set(_data(schemas, "task", "transition")["properties"]["action"]["enum"])


@pytest.mark.parametrize(
    "entity, marker",
    [
        ("inspection", "`inspection` create:"),
        ("hazard", "`hazard` create (a hazard reported outside an inspection):"),
        ("patrol", "`patrol` create:"),
        ("signature", "`signature` create"),
    ],
)
def test_the_field_names_of_each_payload(schemas, entity, marker):
    data = _data(schemas, entity, "create")
    named = _keys(_block_after(marker))
    assert named <= _properties(schemas, data), named - _properties(schemas, data)
    assert set(data.get("required", [])) <= named
    assert set(data["properties"]) - named <= {"supersedes"}  # every top-level field is in the contract


def test_the_pull_envelope_and_the_fields_pulled_records_promise(schemas):
    assert _keys(_block_after("## 3. Pull")) == {
        "changes",
        "entity",
        "op",
        "id",
        "version",
        "data",
        "cursor",
        "has_more",
        "reset",
    }
    assert set(schemas["PullOut"]["properties"]) == {"changes", "cursor", "has_more", "reset"}
    promise = PROTOCOL[PROTOCOL.index("Pulled records carry the same fields") : PROTOCOL.index("## 3. Pull")]
    upserts = {
        leaf["properties"]["entity"]["enum"][0]: schemas[_name(leaf["properties"]["data"]["$ref"])]
        for leaf in _leaves(schemas, "PulledUpsert")
    }
    promised = dict(re.findall(r"`([a-z_]+)` —\s*(.*?)(?:;|\.\n)", promise, re.S))
    assert set(promised) == set(upserts)
    for entity, fields in promised.items():
        names = set(re.findall(r"`([a-z_]+)`", fields)) - {"target"}
        assert names <= set(upserts[entity]["properties"]), (entity, names - set(upserts[entity]["properties"]))
    assert "target" in upserts["task"]["properties"]
