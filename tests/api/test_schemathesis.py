"""The whole API against its own OpenAPI document, with inputs generated from it (schemathesis,
in-process over the WSGI app): for every operation and every role, valid and invalid inputs, no
answer is a 5xx and every answer is one the document describes (status, content type, body).

Valid inputs name real records in their paths (a hazard, an inspection, a plan, a draw, a patrol,
a task, a photo, the demo's grids, enterprises, regions and checklists), so each role's answer about a
record it sees is checked against the document too; invalid inputs are generated whole. A fixed,
derandomised budget keeps it reproducible and within a couple of minutes. Under testing a 500
raises out of the app, so it fails here with the example that caused it.

schemathesis's pytest plugin (``schemathesis.pytest.from_fixture``) is not used: it pokes pytest
internals that pytest 9.2 no longer has. Its documented ``APIOperation.as_strategy`` with
hypothesis' ``given`` does the same inside one test, on the suite's own app and database."""

from __future__ import annotations


import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.evidence import images
from tests.evidence.uploads import upload
from tests.inspections.conftest import inspection_body, template_of  # noqa: F401  (fixtures)

ROLES = ("admin", "desk", "inspector1", "gridworker1", "enterprise1")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation and generation mode; each is sent once for every role.
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}
# The in-process client does not undo a Content-Encoding (JSON answers are compressed when asked: tests/api/test_compression.py).
IDENTITY = {"Accept-Encoding": "identity"}
# Revoking tokens: tried after everything else, so that the other operations keep their callers.
LAST = ("POST /api/v1/auth/logout", "DELETE /api/v1/devices/{device_id}")


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def role_headers(login):
    return {role: login(role) for role in ROLES}


@pytest.fixture
def records(client, role_headers, demo, inspection_body, first_items_of):
    """One record of every kind, made through the API, named as the paths name them."""
    worker, desk, inspector = role_headers["gridworker1"], role_headers["desk"], role_headers["inspector1"]
    photo = upload(client, worker, images.jpeg(exif=images.make_exif()))
    hazard = client.post(
        "/api/v1/hazards",
        headers=worker,
        json={
            "enterprise_id": str(demo.retailer.id),
            "level": "general",
            "description": "门口堆放杂物",
            "photos": [photo],
            "found_at": "2026-11-22T08:10:00+08:00",
        },
    ).get_json()
    inspection = inspection_body(fail=first_items_of(demo.retailer)[:1])
    assert client.post("/api/v1/inspections", headers=inspector, json=inspection).status_code == 201
    plan = client.post(
        "/api/v1/plans",
        headers=desk,
        json={
            "kind": "routine",
            "title": "例行检查",
            "window_start": "2026-12-01",
            "window_end": "2026-12-15",
            "enterprise_ids": [str(demo.retailer.id)],
            "inspector_ids": [str(demo.users["inspector1"].id), str(demo.users["inspector2"].id)],
        },
    ).get_json()
    draw = client.post(
        "/api/v1/plans/random-draw",
        headers=desk,
        json={"count": 2, "window_start": "2026-12-01", "window_end": "2026-12-15", "seed": "schemathesis"},
    ).get_json()
    patrol = client.post(
        "/api/v1/patrols",
        headers=worker,
        json={
            "grid_id": str(demo.grid_of["gridworker1"]),
            "started_at": "2026-11-22T08:00:00+08:00",
            "track": {"coordinates": [[107.8, 30.7], [107.801, 30.701]]},
            "visits": [],
            "notes": "",
        },
    ).get_json()
    checklist = inspection["checklist"]
    # A person of no demo role, whom the generated edits, resets and deactivation may befall.
    person = client.post(
        "/api/v1/users",
        headers=desk,
        json={"name": "模糊测试", "roles": ["grid_worker"], "phone": "13999999999", "region": demo.villages[0].code},
    ).get_json()
    task = client.post(
        "/api/v1/tasks",
        headers=desk,
        json={
            "kind": "patrol",
            "title": "巡查",
            "assignee_id": str(demo.users["gridworker1"].id),
            "enterprise_id": str(demo.retailer.id),
            "due": "2026-12-01T18:00:00+08:00",
        },
    ).get_json()
    return {
        "task_id": task["id"],
        "user_id": person["id"],
        "grid_id": str(demo.grid_of["gridworker1"]),
        "enterprise_id": str(demo.retailer.id),
        "hazard_id": hazard["id"],
        "inspection_id": inspection["id"],
        "plan_id": plan["id"],
        "draw_id": draw["id"],
        "patrol_id": patrol["id"],
        "sha256": photo,
        "region_code": demo.towns[0].code,
        "checklist_code": checklist["code"],
        "version": checklist["version"],
    }


@pytest.fixture
def first_items_of(template_of):
    def codes(enterprise):
        return [item.code for item in template_of(enterprise).items if item.applies_to(enterprise.subtype)]

    return codes


def _path_parameters(operation, records: dict) -> dict:
    names = [p.name for p in operation.path_parameters]
    given = {name: records[name] for name in names if name in records}
    if "code" in names:
        given["code"] = records["checklist_code" if "/checklists/" in operation.path else "region_code"]
    return given


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
def test_every_operation_answers_as_documented_for_every_role(api_schema, role_headers, records, mode):
    operations = sorted(
        (result.ok() for result in api_schema.get_all_operations()), key=lambda operation: operation.label in LAST
    )
    assert len(operations) >= 40
    failures = {}
    for operation in operations:
        real = _path_parameters(operation, records) if mode == GenerationMode.POSITIVE else {}

        @settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=real))
        def answers_as_documented(case):
            for headers in role_headers.values():
                case.call_and_validate(headers=headers | IDENTITY, checks=CHECKS)

        try:
            answers_as_documented()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # an operation with no input has no invalid input
        except (Exception, BaseExceptionGroup) as failure:  # every operation is tried; all failures are reported
            failures[operation.label] = failure
    assert not failures, "\n\n".join(f"{label}:\n{str(failure)[:3000]}" for label, failure in failures.items())
