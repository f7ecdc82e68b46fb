"""Plans, the secrecy of unannounced (四不两直) plans, and reproducible 双随机 draws."""

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from accounts.service import create_user
from enterprises.models import Enterprise
from geo.models import Region
from inspections.draw import compute_draw, conflicts


def _plan(demo, kind="unannounced", enterprises=None, inspectors=("inspector1", "inspector2")):
    return {
        "kind": kind,
        "title": "节前烟花爆竹暗查暗访",
        "window_start": "2026-11-23",
        "window_end": "2026-11-30",
        "enterprise_ids": [str(e) for e in (enterprises or [demo.retailer.id])],
        "inspector_ids": [str(demo.users[u].id) for u in inspectors],
    }


@pytest.fixture
def second_desk(session, demo):
    return create_user(
        session,
        username="desk2",
        name="另一位内勤",
        password="anxun-demo",
        roles=["desk_officer"],
        region_id=demo.towns[0].id,
    )


def test_unannounced_plan_exists_only_for_its_team_and_author(client, login, demo, second_desk):
    created = client.post("/api/v1/plans", headers=login("desk"), json=_plan(demo))
    assert created.status_code == 201, created.get_json()
    plan_id = created.get_json()["id"]
    for user in ("desk", "inspector1", "inspector2"):
        headers = login(user)
        assert client.get(f"/api/v1/plans/{plan_id}", headers=headers).status_code == 200, user
        assert plan_id in {p["id"] for p in client.get("/api/v1/plans", headers=headers).get_json()["items"]}
    # Everyone else — the enterprise, the grid worker of that very grid, another officer, even admin.
    for user in ("enterprise1", "gridworker1", "gridworker2", "gridworker3", "desk2", "admin"):
        headers = login(user)
        assert client.get(f"/api/v1/plans/{plan_id}", headers=headers).status_code == 404, user
        assert plan_id not in {p["id"] for p in client.get("/api/v1/plans", headers=headers).get_json()["items"]}
        listed = client.get(f"/api/v1/plans?enterprise_id={demo.retailer.id}", headers=headers).get_json()
        assert listed["total"] == 0, user


def test_unannounced_plan_is_revealed_once_carried_out(client, login, demo, inspection_body):
    plan_id = client.post("/api/v1/plans", headers=login("desk"), json=_plan(demo)).get_json()["id"]
    body = inspection_body(kind="unannounced", plan_id=plan_id)
    assert client.post("/api/v1/inspections", headers=login("inspector2"), json=body).status_code == 201
    for user in ("enterprise1", "gridworker1"):
        assert client.get(f"/api/v1/plans/{plan_id}", headers=login(user)).status_code == 200, user


def test_announced_plans_are_visible_in_scope(client, login, demo):
    plan_id = client.post("/api/v1/plans", headers=login("desk"), json=_plan(demo, kind="routine")).get_json()["id"]
    assert client.get(f"/api/v1/plans/{plan_id}", headers=login("enterprise1")).status_code == 200
    assert client.get(f"/api/v1/plans/{plan_id}", headers=login("gridworker1")).status_code == 200
    assert client.get(f"/api/v1/plans/{plan_id}", headers=login("gridworker3")).status_code == 404


def test_plan_team_must_be_certified_inspectors(client, login, demo):
    response = client.post(
        "/api/v1/plans", headers=login("desk"), json=_plan(demo, inspectors=("inspector1", "gridworker1"))
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0] == {
        "code": "plan.not_an_inspector",
        "field": "inspector_ids.1",
        "message": "不是本辖区持执法证的执法人员",
    }
    one = client.post("/api/v1/plans", headers=login("desk"), json=_plan(demo, inspectors=("inspector1",)))
    assert one.status_code == 422
    assert client.post("/api/v1/plans", headers=login("gridworker1"), json=_plan(demo)).status_code == 403


def test_inspection_under_a_plan_must_match_it(client, login, demo, inspection_body):
    plan_id = client.post("/api/v1/plans", headers=login("desk"), json=_plan(demo)).get_json()["id"]
    wrong_kind = client.post(
        "/api/v1/inspections", headers=login("inspector1"), json=inspection_body(kind="routine", plan_id=plan_id)
    )
    assert wrong_kind.get_json()["errors"][0]["code"] == "inspection.kind_mismatch"


@pytest.fixture
def local_inspectors(session, demo):
    """Two more inspectors who belong to places: one to town 1, one to gridworker1's village and grid."""
    from geo.models import GridAssignment

    town_inspector = create_user(
        session,
        username="insp-town1",
        name="镇执法",
        password="anxun-demo",
        roles=["inspector"],
        region_id=demo.towns[0].id,
        enforcement_cert_no="T-1",
    )
    village = demo.users["gridworker1"].region_id
    village_inspector = create_user(
        session,
        username="insp-village",
        name="村执法",
        password="anxun-demo",
        roles=["inspector", "grid_worker"],
        region_id=village,
        enforcement_cert_no="V-1",
    )
    session.add(
        GridAssignment(
            grid_id=demo.grid_of["gridworker1"],
            user_id=village_inspector.id,
            assigned_at=demo.users["gridworker1"].created_at,
        )
    )
    session.flush()
    return town_inspector, village_inspector


def test_random_draw_is_reproducible_and_never_pairs_an_inspector_with_their_own_area(
    client, login, session, demo, local_inspectors
):
    town_inspector, village_inspector = local_inspectors
    body = {
        "count": 60,
        "team_size": 2,
        "window_start": "2026-12-01",
        "window_end": "2026-12-15",
        "seed": "county-2026-12-draw",
        "industry": "fireworks",
    }
    response = client.post("/api/v1/plans/random-draw", headers=login("desk"), json=body)
    assert response.status_code == 201, response.get_json()
    draw = response.get_json()
    assert draw["seed"] == "county-2026-12-draw"
    # Anyone with the seed and the pool snapshot recomputes the same draw.
    assert (
        compute_draw(draw["seed"], draw["enterprise_pool"], draw["inspector_pool"], draw["count"], draw["team_size"])
        == draw["result"]
    )
    fireworks = session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.industry == "fireworks"))
    assert len(draw["result"]) == min(60, fireworks)
    paths = dict(
        session.execute(
            select(Enterprise.id, func.ltree2text(Region.path)).join(Region, Region.id == Enterprise.region_id)
        ).all()
    )
    grids = dict(session.execute(select(Enterprise.id, Enterprise.grid_id)).all())
    town1 = demo.towns[0].code
    for entry in draw["result"]:
        eid = uuid.UUID(entry["enterprise_id"])
        assert len(entry["inspector_ids"]) == 2
        if town1 in paths[eid]:
            assert str(town_inspector.id) not in entry["inspector_ids"]
        if grids[eid] == demo.grid_of["gridworker1"]:
            assert str(village_inspector.id) not in entry["inspector_ids"]
    # The local inspectors were drawn somewhere (outside their own area), so the rule was exercised.
    drawn = {i for e in draw["result"] for i in e["inspector_ids"]}
    assert str(town_inspector.id) in drawn
    assert len(draw["plans"]) == len(draw["result"])


def test_conflict_rule():
    inspector = {"id": "i", "region_level": "town", "region_path": "500299000000.500299100000", "grid_ids": ["g9"]}
    assert conflicts(inspector, {"id": "e", "region_path": "500299000000.500299100000.500299100201", "grid_id": "g1"})
    assert not conflicts(
        inspector, {"id": "e", "region_path": "500299000000.500299101000.500299101201", "grid_id": "g2"}
    )
    assert conflicts(inspector, {"id": "e", "region_path": "500299000000.500299101000.500299101201", "grid_id": "g9"})
    district = {"id": "d", "region_level": "district", "region_path": "500299000000", "grid_ids": []}
    assert not conflicts(
        district, {"id": "e", "region_path": "500299000000.500299100000.500299100201", "grid_id": "g1"}
    )


def test_same_seed_same_pool_same_result_and_different_seed_differs():
    pool = [{"id": f"e{i:03d}", "region_path": "a", "grid_id": None} for i in range(50)]
    team = [{"id": f"i{i}", "region_level": "district", "region_path": "a", "grid_ids": []} for i in range(6)]
    first = compute_draw("seed-one-123", pool, team, 10, 2)
    assert compute_draw("seed-one-123", list(reversed(pool)), list(reversed(team)), 10, 2) == first
    assert compute_draw("seed-two-456", pool, team, 10, 2) != first


def test_publication_shows_draws_and_results(client, login, session, demo, inspection_body):
    body = {
        "count": 1,
        "window_start": "2026-12-01",
        "window_end": "2026-12-15",
        "seed": "publication-test",
        "region": demo.villages[0].code,
        "industry": "fireworks",
        "risk": ["red", "orange", "yellow", "blue"],
    }
    draw = client.post("/api/v1/plans/random-draw", headers=login("desk"), json=body).get_json()
    entry = draw["publication"][0]
    assert entry["result"] is None
    assert sorted(entry["inspectors"]) == sorted([demo.users["inspector1"].name, demo.users["inspector2"].name])
    enterprise = session.get(Enterprise, uuid.UUID(entry["enterprise_id"]))
    inspection = inspection_body(enterprise, kind="random", plan_id=entry["plan_id"])
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=inspection).status_code == 201
    published = client.get(f"/api/v1/plans/random-draws/{draw['id']}", headers=login("inspector2")).get_json()
    assert published["publication"][0]["result"]["inspection_id"] == inspection["id"]
    assert client.post("/api/v1/plans/random-draw", headers=login("gridworker1"), json=body).status_code == 403


def test_an_inspection_under_an_earlier_plan_does_not_reveal_a_later_unannounced_plan(
    client, login, demo, inspection_body
):
    """不发通知、不打招呼: what was carried out under plan A says nothing about plan B."""
    desk, team = login("desk"), login("inspector2")
    earlier = client.post("/api/v1/plans", headers=desk, json=_plan(demo)).get_json()["id"]
    done = inspection_body(kind="unannounced", plan_id=earlier)
    assert client.post("/api/v1/inspections", headers=team, json=done).status_code == 201
    later = client.post("/api/v1/plans", headers=desk, json=_plan(demo)).get_json()["id"]
    routine = client.post("/api/v1/plans", headers=desk, json=_plan(demo, kind="routine")).get_json()["id"]
    routine_done = inspection_body(kind="routine", plan_id=routine)
    assert client.post("/api/v1/inspections", headers=team, json=routine_done).status_code == 201
    for user in ("enterprise1", "gridworker1", "admin"):
        headers = login(user)
        assert client.get(f"/api/v1/plans/{earlier}", headers=headers).status_code == 200, user
        assert client.get(f"/api/v1/plans/{later}", headers=headers).status_code == 404, user
        listed = {p["id"] for p in client.get("/api/v1/plans?per_page=500", headers=headers).get_json()["items"]}
        assert earlier in listed and later not in listed, user
    # Once carried out under its own plan, the later one is revealed too.
    assert (
        client.post(
            "/api/v1/inspections", headers=team, json=inspection_body(kind="unannounced", plan_id=later)
        ).status_code
        == 201
    )
    assert client.get(f"/api/v1/plans/{later}", headers=login("enterprise1")).status_code == 200


@pytest.mark.parametrize("inspected", [(), (0,), (1,), (0, 1)])
def test_a_plan_for_several_enterprises_is_revealed_when_every_one_was_inspected_under_it(
    client, login, session, demo, inspection_body, inspected
):
    other = session.scalar(
        select(Enterprise)
        .where(
            Enterprise.grid_id == demo.retailer.grid_id,
            Enterprise.id != demo.retailer.id,
            Enterprise.industry == "fireworks",
        )
        .limit(1)
    )
    targets = [demo.retailer, other]
    plan_id = client.post(
        "/api/v1/plans", headers=login("desk"), json=_plan(demo, enterprises=[e.id for e in targets])
    ).get_json()["id"]
    for n in inspected:
        body = inspection_body(targets[n], kind="unannounced", plan_id=plan_id)
        assert client.post("/api/v1/inspections", headers=login("inspector1"), json=body).status_code == 201
    expected = 200 if len(inspected) == 2 else 404
    assert client.get(f"/api/v1/plans/{plan_id}", headers=login("gridworker1")).status_code == expected


def _published_draw(client, login, demo, seed="public-draw-2026"):
    body = {
        "count": 2,
        "window_start": "2026-12-01",
        "window_end": "2026-12-15",
        "seed": seed,
        "region": demo.towns[0].code,
        "industry": "fireworks",
    }
    response = client.post("/api/v1/plans/random-draw", headers=login("desk"), json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_publication_of_a_draw_is_public_and_carries_no_personal_data_of_the_pool(
    client, login, session, demo, inspection_body
):
    from datetime import datetime

    draw = _published_draw(client, login, demo)
    entry = draw["publication"][0]
    enterprise = session.get(Enterprise, uuid.UUID(entry["enterprise_id"]))
    inspection = inspection_body(enterprise, kind="random", plan_id=entry["plan_id"])
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=inspection).status_code == 201

    public = client.get(f"/api/v1/public/random-draws/{draw['id']}")  # no Authorization at all
    assert public.status_code == 200, public.get_json()
    raw, body = public.get_data(as_text=True), public.get_json()
    for user in ("inspector1", "inspector2"):
        assert demo.users[user].enforcement_cert_no not in raw
    assert "cert_no" not in raw and "phone" not in raw
    assert body["seed"] == "public-draw-2026" and body["count"] == 2 and body["team_size"] == 2
    assert "compute_draw" in body["recompute"]
    # Anyone recomputes the draw from what is published, and gets what was drawn.
    assert (
        compute_draw(body["seed"], body["enterprise_pool"], body["inspector_pool"], body["count"], body["team_size"])
        == draw["result"]
    )
    drawn = {e["enterprise_id"]: e for e in body["publication"]}
    assert set(drawn) == {e["enterprise_id"] for e in draw["result"]}
    assert sorted(drawn[entry["enterprise_id"]]["inspectors"]) == sorted(
        [demo.users["inspector1"].name, demo.users["inspector2"].name]
    )
    # Times are RFC 3339, like the rest of the API (not an HTTP date).
    for value in (body["created_at"], drawn[entry["enterprise_id"]]["result"]["finished_at"]):
        assert datetime.fromisoformat(value).tzinfo is not None, value
    authenticated = client.get(f"/api/v1/plans/random-draws/{draw['id']}", headers=login("desk")).get_json()
    finished = next(e for e in authenticated["publication"] if e["enterprise_id"] == entry["enterprise_id"])
    assert datetime.fromisoformat(finished["result"]["finished_at"]).tzinfo is not None

    listed = client.get("/api/v1/public/random-draws").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == draw["id"]
    assert "cert_no" not in client.get("/api/v1/public/random-draws").get_data(as_text=True)
    assert client.get(f"/api/v1/public/random-draws/{uuid.uuid4()}").status_code == 404


def test_a_random_inspection_must_belong_to_a_drawn_plan(client, login, session, demo, inspection_body, push):
    from inspections.models import Plan

    without = client.post("/api/v1/inspections", headers=login("inspector1"), json=inspection_body(kind="random"))
    assert without.status_code == 422 and without.get_json()["errors"][0] == {
        "code": "inspection.random_needs_draw",
        "field": "plan_id",
        "message": "双随机检查须属于一次双随机抽取的检查计划",
    }
    by_hand = client.post("/api/v1/plans", headers=login("desk"), json=_plan(demo, kind="random"))
    assert by_hand.status_code == 422 and by_hand.get_json()["errors"][0]["code"] == "plan.random_needs_draw"
    # A random plan made without a draw (as older data may hold) carries no random inspection either.
    undrawn = Plan(
        id=uuid.uuid4(),
        kind="random",
        title="手工计划",
        window_start=date(2026, 11, 23),
        window_end=date(2026, 11, 30),
        enterprise_ids=[demo.retailer.id],
        inspector_ids=[demo.users["inspector1"].id, demo.users["inspector2"].id],
        region_id=demo.users["desk"].region_id,
        created_by=demo.users["desk"].id,
        created_at=demo.users["desk"].created_at,
    )
    session.add(undrawn)
    session.flush()
    body = inspection_body(kind="random", plan_id=str(undrawn.id))
    result = push("inspector1", "inspection", "create", body.pop("id"), body)
    assert result["status"] == "rejected" and result["errors"][0]["code"] == "inspection.random_needs_draw"
