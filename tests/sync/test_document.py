"""Real sync answers agree with the OpenAPI document: a push answering each status, and whole pulls
of two roles, validated against the document's schemas (discriminated unions, GeoJSON geometry)."""

from __future__ import annotations

import uuid

import pytest
from openapi_schema_validator import OAS30Validator

from tests.sync.payloads import PHOTO, hazard_change, inspection_change, transition

ORDER = {"action": "order", "deadline": "2026-12-01T00:00:00+08:00", "responsible_person": "店主", "measures": "清理"}


@pytest.fixture
def conforms(server):
    document = server[0].get("/api/v1/openapi.json").get_json()

    def check(instance, component: str):
        schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
        errors = sorted(OAS30Validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
        assert not errors, [f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5]]

    return check


def test_a_push_answering_every_status_matches_the_document(phone, world, db_session, conforms):
    users = world["users"]
    inspector = phone("inspector1")
    team = [users["inspector1"].id, users["inspector2"].id]
    inspection, failing = inspection_change(db_session, world["retailer"], team, fail_first=1, photos=[PHOTO])
    derived = str(uuid.uuid5(uuid.UUID(inspection["id"]), failing[0]))
    bad = hazard_change(world["retailer"])
    bad["data"]["level"] = "catastrophic"
    changes = [inspection, transition(derived, 1, **ORDER), bad, {"entity": "hazard"}]
    first = inspector.push(changes).get_json()
    again = phone("inspector1").push([inspection, transition(derived, 1, **ORDER)]).get_json()
    assert [r["status"] for r in first["results"]] == ["applied", "applied", "rejected", "rejected"]
    assert [r["status"] for r in again["results"]] == ["duplicate", "conflict"]
    assert again["results"][1]["current"]["status"] == "ordered"
    conforms(first, "PushOut")
    conforms(again, "PushOut")
    # The request bodies too: what the phones send is what the document describes.
    conforms({"batch_id": "b", "sent_at": "2026-11-22T09:00:00+08:00", "changes": changes[:2]}, "BatchIn")


@pytest.mark.parametrize("username", ["inspector1", "gridworker1"])
def test_a_whole_pull_matches_the_document(phone, world, username, conforms):
    phone("gridworker1").push([hazard_change(world["retailer"])])
    device = phone(username)
    entities = set()
    while True:
        answer = device.pull_page(limit=300)
        conforms(answer, "PullOut")
        entities |= {(c["entity"], c["op"]) for c in answer["changes"]}
        if not answer["has_more"]:
            break
    assert {("checklist_template", "upsert"), ("enterprise", "upsert"), ("hazard", "upsert")} <= entities
    if username == "gridworker1":
        assert ("grid", "upsert") in entities


def test_a_wrongly_typed_answer_does_not_conform(conforms):
    """The check above can fail: an upsert without its data, a geometry that is no GeoJSON."""
    with pytest.raises(AssertionError):
        conforms(
            {
                "changes": [{"entity": "enterprise", "op": "upsert", "id": "x", "version": 1}],
                "cursor": "c",
                "has_more": False,
                "reset": False,
            },
            "PullOut",
        )
    with pytest.raises(AssertionError):
        conforms(
            {"id": str(uuid.uuid4()), "version": 1, "geometry": {"type": "Circle", "coordinates": [1, 2]}},
            "GridRecordOut",
        )
