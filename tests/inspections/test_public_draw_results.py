"""双随机一公开: the public view of a draw shows each inspection's result — hazards found and whether
they were rectified — and no one's personal data."""

import uuid
from datetime import timedelta

from enterprises.models import Enterprise


def test_the_public_draw_shows_hazards_found_and_whether_rectified(
    client, login, session, demo, clock, inspection_body, template_of
):
    body = {
        "count": 1,
        "window_start": "2026-12-01",
        "window_end": "2026-12-15",
        "seed": "results-test",
        "region": demo.villages[0].code,
        "industry": "fireworks",
        "risk": ["red", "orange", "yellow", "blue"],
    }
    draw = client.post("/api/v1/plans/random-draw", headers=login("desk"), json=body).get_json()
    entry = draw["publication"][0]
    enterprise = session.get(Enterprise, uuid.UUID(entry["enterprise_id"]))
    general = next(i.code for i in template_of(enterprise).items if not i.major and i.applies_to(enterprise.subtype))
    inspection = inspection_body(enterprise, kind="random", plan_id=entry["plan_id"], fail=[general])
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=inspection).status_code == 201

    def result():
        public = client.get(f"/api/v1/public/random-draws/{draw['id']}")
        assert public.status_code == 200
        return public.get_json()["publication"][0]["result"]

    assert result()["hazards_found"] == 1 and result()["hazards_rectified"] == 0 and result()["rectified"] is False
    hazard_id = str(uuid.uuid5(uuid.UUID(inspection["id"]), general))
    transitions = [
        (
            "inspector1",
            {
                "action": "order",
                "deadline": (clock.now() + timedelta(days=5)).isoformat(),
                "responsible_person": "店长",
                "measures": "更换",
            },
        ),
        ("inspector1", {"action": "submit", "photos": ["d" * 64], "note": "已整改"}),
        ("inspector2", {"action": "verify", "note": "合格"}),
    ]
    for version, (username, data) in enumerate(transitions, start=1):
        response = client.post(
            f"/api/v1/hazards/{hazard_id}/transitions", headers=login(username), json={"base_version": version, **data}
        )
        assert response.status_code == 200, response.get_json()
    final = result()
    assert final["hazards_rectified"] == 1 and final["rectified"] is True
    assert set(final) == {
        "inspection_id",
        "finished_at",
        "failed",
        "major_failed",
        "hazards_found",
        "hazards_rectified",
        "rectified",
    }
