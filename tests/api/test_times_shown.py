"""Every time in an answer is shown in Beijing time, +08:00 (README, "Times in answers"), whatever
offset it came in with: records read back, records just written, conflicts' ``current``, the sync
feed, and the server's own clock."""

import re

import pytest

from tests.api.test_schemathesis import first_items_of, records, role_headers  # noqa: F401  (fixtures)
from tests.inspections.conftest import inspection_body, template_of  # noqa: F401  (fixtures)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?$")


def times_in(value, path="$"):
    """(path, text) of every string in a JSON value that is a time of day on a date."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from times_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from times_in(item, f"{path}[{index}]")
    elif isinstance(value, str) and RFC3339.match(value):
        yield path, value


def assert_beijing(answer, where):
    found = list(times_in(answer))
    wrong = [(path, text) for path, text in found if not text.endswith("+08:00")]
    assert not wrong, f"{where}: {wrong[:10]}"
    return len(found)


@pytest.fixture
def utc_hazard(client, role_headers, demo):  # noqa: F811
    """A hazard reported with a UTC time: the answer must not echo the phone's offset."""
    answer = client.post(
        "/api/v1/hazards",
        headers=role_headers["gridworker1"],
        json={
            "enterprise_id": str(demo.retailer.id),
            "level": "general",
            "description": "消防通道堵塞",
            "found_at": "2026-11-22T00:10:00Z",
        },
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_every_time_in_the_main_answers_is_beijing_time(client, role_headers, records, utc_hazard):  # noqa: F811
    assert_beijing(utc_hazard, "POST /hazards")
    desk, worker = role_headers["desk"], role_headers["gridworker1"]
    paths = [
        (desk, "/api/v1/enterprises"),
        (desk, f"/api/v1/enterprises/{records['enterprise_id']}"),
        (desk, "/api/v1/grids"),
        (desk, f"/api/v1/grids/{records['grid_id']}"),
        (desk, f"/api/v1/grids/{records['grid_id']}/workers"),
        (desk, "/api/v1/hazards"),
        (desk, f"/api/v1/hazards/{records['hazard_id']}"),
        (desk, f"/api/v1/hazards/{utc_hazard['id']}"),
        (desk, f"/api/v1/inspections/{records['inspection_id']}"),
        (desk, "/api/v1/plans"),
        (desk, f"/api/v1/plans/{records['plan_id']}"),
        (desk, f"/api/v1/public/random-draws/{records['draw_id']}"),
        (desk, "/api/v1/public/random-draws"),
        (worker, f"/api/v1/patrols/{records['patrol_id']}"),
        (worker, f"/api/v1/photos/{records['sha256']}"),
        (desk, f"/api/v1/plans/random-draws/{records['draw_id']}"),
        (desk, "/api/v1/people"),
        (desk, "/api/v1/checklists"),
        (desk, f"/api/v1/checklists/{records['checklist_code']}"),
        (desk, f"/api/v1/checklists/{records['checklist_code']}/versions/{records['version']}"),
        (worker, "/api/v1/sync/config"),
        (desk, "/api/v1/stats/monthly?month=2026-11"),
    ]
    seen = 0
    for headers, path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.get_json())
        seen += assert_beijing(response.get_json(), path)
    assert seen > 50


def test_every_time_in_a_pull_is_beijing_time(client, role_headers, records, utc_hazard):  # noqa: F811
    worker, cursor, seen = role_headers["gridworker1"], None, 0
    for _ in range(100):
        answer = client.get(
            "/api/v1/sync/pull", headers=worker, query_string={"limit": 200, **({"cursor": cursor} if cursor else {})}
        ).get_json()
        seen += assert_beijing(answer, "GET /sync/pull")
        cursor = answer["cursor"]
        if not answer["has_more"]:
            break
    assert seen >= 5


def test_a_conflicts_current_is_in_beijing_time(client, role_headers, utc_hazard):  # noqa: F811
    answer = client.post(
        f"/api/v1/hazards/{utc_hazard['id']}/transitions",
        headers=role_headers["desk"],
        json={"action": "order", "base_version": utc_hazard["version"] + 5, "deadline": "2026-12-01T00:00:00Z"},
    )
    assert answer.status_code == 409, answer.get_json()
    assert assert_beijing(answer.get_json()["current"], "409 current") >= 2
