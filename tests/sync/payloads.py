"""Sync change payloads built against the real published checklist of the demo retailer."""

import uuid

from checklists.service import list_latest, template_for_inspection
from enterprises.models import Enterprise
from tests.answers import failing_answer, passing_answer

PHOTO = "c" * 64


def answers(template, subtype, fail=()):
    return [
        failing_answer(item, PHOTO) if item.code in fail else passing_answer(item)
        for item in template.items
        if item.applies_to(subtype)
    ]


def inspection_change(
    session, enterprise_id, inspectors, *, kind="routine", fail_first=0, inspection_id=None, photos=()
):
    enterprise = session.get(Enterprise, enterprise_id)
    latest = list_latest(session, industry=enterprise.industry, subtype=enterprise.subtype)[0]
    template = template_for_inspection(session, latest["code"], latest["version"])
    failing = [i.code for i in template.items if i.applies_to(enterprise.subtype)][:fail_first]
    return {
        "entity": "inspection",
        "op": "create",
        "id": str(inspection_id or uuid.uuid4()),
        "recorded_at": "2026-11-22T08:40:00+08:00",
        "data": {
            "enterprise_id": str(enterprise_id),
            "kind": kind,
            "plan_id": None,
            "checklist": {"code": template.code, "version": template.version},
            "inspectors": [str(i) for i in inspectors],
            "started_at": "2026-11-22T08:00:00+08:00",
            "finished_at": "2026-11-22T08:40:00+08:00",
            "location": None,
            "answers": answers(template, enterprise.subtype, failing),
            "photos": list(photos),
            "remarks": "",
            "supersedes": None,
        },
    }, failing


def hazard_change(enterprise_id, *, hazard_id=None, description="门口堆放杂物", photos=()):
    return {
        "entity": "hazard",
        "op": "create",
        "id": str(hazard_id or uuid.uuid4()),
        "recorded_at": "2026-11-22T08:10:00+08:00",
        "data": {
            "enterprise_id": str(enterprise_id),
            "level": "general",
            "description": description,
            "location": None,
            "photos": list(photos),
            "found_at": "2026-11-22T08:10:00+08:00",
        },
    }


def transition(hazard_id, base_version, **data):
    return {
        "entity": "hazard",
        "op": "transition",
        "id": str(hazard_id),
        "base_version": base_version,
        "recorded_at": "2026-11-22T10:00:00+08:00",
        "data": data,
    }
