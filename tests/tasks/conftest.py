"""Tasks as the desk gives and follows them: the demo's places and people, a town desk officer, and a
builder of task bodies."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from enterprises.models import Enterprise
from geo.models import Grid, Region
from tests.accounts.conftest import town_desk  # noqa: F401  (fixture)


@pytest.fixture
def places(session, demo):
    """gridworker1's town and an enterprise of gridworker2's grid (same town, another village)."""

    class Places:
        pass

    p = Places()
    grid = session.get(Grid, demo.grid_of["gridworker1"])
    p.town = session.get(Region, grid.town_id)
    p.other_town = next(t for t in demo.towns if t.id != p.town.id)
    p.neighbour = session.scalar(
        select(Enterprise).where(Enterprise.grid_id == demo.grid_of["gridworker2"]).order_by(Enterprise.name).limit(1)
    )
    return p


@pytest.fixture
def task_body(demo, clock):
    """``task_body(**overrides)`` -> a patrol of the demo retailer for gridworker1, due in three days."""

    def build(**overrides):
        body = {
            "kind": "patrol",
            "title": "节前巡查：烟花爆竹零售点",
            "assignee_id": str(demo.users["gridworker1"].id),
            "enterprise_id": str(demo.retailer.id),
            "due": (clock.now() + timedelta(days=3)).isoformat(),
            "note": "重点查看储存间",
        }
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    return build


@pytest.fixture
def create_task(client, login, task_body):
    """``create_task(username="desk", **overrides)`` -> the created task (201 asserted)."""

    def create(username="desk", **overrides):
        answer = client.post("/api/v1/tasks", headers=login(username), json=task_body(**overrides))
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()

    return create
