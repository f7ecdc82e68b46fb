"""Builders for inspection payloads against the real published checklist versions."""

import uuid

import pytest

from checklists.service import list_latest, template_for_inspection
from tests.answers import failing_answer, passing_answer

PHOTO = "a" * 64


@pytest.fixture
def template_of(session):
    def get(enterprise):
        latest = list_latest(session, industry=enterprise.industry, subtype=enterprise.subtype)[0]
        return template_for_inspection(session, latest["code"], latest["version"])

    return get


@pytest.fixture
def inspection_body(demo, template_of):
    """``inspection_body(enterprise, fail=[...], kind=..., inspectors=[...])`` → a valid REST body."""

    def build(enterprise=None, *, fail=(), kind="routine", inspectors=None, location=None, **extra):
        enterprise = enterprise or demo.retailer
        template = template_of(enterprise)
        answers = []
        for item in template.items:
            if not item.applies_to(enterprise.subtype):
                continue
            answers.append(failing_answer(item, PHOTO) if item.code in fail else passing_answer(item))
        if inspectors is None:
            inspectors = [demo.users["inspector1"].id, demo.users["inspector2"].id]
        body = {
            "id": str(uuid.uuid4()),
            "enterprise_id": str(enterprise.id),
            "kind": kind,
            "checklist": {"code": template.code, "version": template.version},
            "inspectors": [str(i) for i in inspectors],
            "started_at": "2026-11-22T09:30:00+08:00",
            "finished_at": "2026-11-22T10:15:00+08:00",
            "location": location,
            "answers": answers,
            "photos": [],
            "remarks": "现场检查",
        }
        body.update(extra)
        return body

    return build


@pytest.fixture
def first_items(template_of, demo):
    """Codes of one general and one major item of the retailer's checklist."""
    template = template_of(demo.retailer)
    general = next(i.code for i in template.items if not i.major and i.applies_to("retail"))
    major = next(i.code for i in template.items if i.major and i.applies_to("retail"))
    return general, major


@pytest.fixture
def push(client, login):
    """``push(username, entity, op, record_id, data, base_version=None)`` -> the result of that one
    change pushed through ``/sync/push``, as a phone would send it."""

    def send(username, entity, op, record_id, data, base_version=None):
        change = {
            "entity": entity,
            "op": op,
            "id": str(record_id),
            "recorded_at": "2026-11-22T10:00:00+08:00",
            "data": data,
        }
        if base_version is not None:
            change["base_version"] = base_version
        response = client.post(
            "/api/v1/sync/push",
            headers=login(username),
            json={"batch_id": str(uuid.uuid4()), "sent_at": "2026-11-22T10:00:00+08:00", "changes": [change]},
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["results"][0]

    return send
