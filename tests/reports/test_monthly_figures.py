"""Monthly figures: computed by one SQL statement, states replayed as at the month's end, frozen once
the month is over, served by ``GET /api/v1/stats/monthly`` within the caller's area."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from accounts.service import create_user
from enterprises.models import Enterprise
from geo.models import Region
from reports.models import MonthlyFigures
from tests.jobs.conftest import FIVE

PHOTO = "d" * 64
# Beijing times, written as UTC.
NOV_23 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
DEC_2 = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)
DEC_3 = datetime(2026, 12, 2, 17, 30, tzinfo=timezone.utc)  # 3 December 01:30 Beijing
NOVEMBER_END = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)


def _enterprises_in(session, town) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Enterprise)
        .join(Region, Region.id == Enterprise.region_id)
        .where(Region.parent_id == town.id)
    )


def _transition(client, headers, hazard_id, version, **data):
    response = client.post(
        f"/api/v1/hazards/{hazard_id}/transitions", headers=headers, json={"base_version": version, **data}
    )
    assert response.status_code == 200, response.get_json()


def _stats(client, headers, **query):
    return client.get("/api/v1/stats/monthly", headers=headers, query_string=query)


@pytest.fixture
def november(client, login, session, clock, demo, inspection_body, first_items, make_hazard):
    """A November in the demo district: in town A an inspection finds a general and a major hazard at
    the retailer, the general one is closed, the major one falls overdue; a grid worker patrols the
    retailer; in town B an inspection finds nothing; a hazard found in October is still overdue."""
    town_a, town_b = demo.towns[0], demo.towns[1]
    inspector = login("inspector1")
    general, major = first_items
    body = inspection_body(fail=[general, major])
    assert client.post("/api/v1/inspections", headers=inspector, json=body).status_code == 201
    general_id = str(uuid.uuid5(uuid.UUID(body["id"]), general))
    major_id = str(uuid.uuid5(uuid.UUID(body["id"]), major))
    other = session.scalar(
        select(Enterprise)
        .join(Region, Region.id == Enterprise.region_id)
        .where(Region.parent_id == town_b.id, Enterprise.industry == "fireworks", Enterprise.subtype == "retail")
        .order_by(Enterprise.uscc)
        .limit(1)
    )
    assert client.post("/api/v1/inspections", headers=inspector, json=inspection_body(other)).status_code == 201

    lon, lat = session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == demo.retailer.id)
    ).one()
    patrol = {
        "id": str(uuid.uuid4()),
        "grid_id": str(demo.grid_of["gridworker1"]),
        "started_at": "2026-11-22T08:00:00+08:00",
        "ended_at": "2026-11-22T11:00:00+08:00",
        "visits": [
            {
                "enterprise_id": str(demo.retailer.id),
                "at": "2026-11-22T08:30:00+08:00",
                "location": {"lon": lon, "lat": lat},
                "outcome": "normal",
                "note": "",
                "photos": [],
            }
        ],
        "notes": "早巡",
    }
    assert client.post("/api/v1/patrols", headers=login("gridworker1"), json=patrol).status_code == 201

    _transition(
        client,
        inspector,
        general_id,
        1,
        action="order",
        deadline="2026-11-25T17:00:00+08:00",
        responsible_person="店主",
        measures="更换灭火器",
    )
    _transition(
        client,
        inspector,
        major_id,
        1,
        action="order",
        deadline="2026-11-29T17:00:00+08:00",
        responsible_person="店主",
        measures="停止超量储存",
        five=FIVE,
        treatment_plan="清点并转移超量产品",
    )
    make_hazard(
        found_at=datetime(2026, 10, 20, 2, 0, tzinfo=timezone.utc),
        deadline=datetime(2026, 10, 30, 9, 0, tzinfo=timezone.utc),
    )
    clock.at = NOV_23
    _transition(client, login("enterprise1"), general_id, 2, action="submit", photos=[PHOTO], note="已更换")
    _transition(client, login("inspector2"), general_id, 3, action="verify", note="复查合格")
    # After the month's end the major hazard is put under supervision: November must not see it.
    clock.at = DEC_2
    _transition(client, login("desk"), major_id, 2, action="supervise", office="县安委会办公室")
    return {
        "town_a": town_a,
        "town_b": town_b,
        "major": major_id,
        "retailer_village": session.get(Region, demo.retailer.region_id).code,
        "enterprises_a": _enterprises_in(session, town_a),
        "enterprises_b": _enterprises_in(session, town_b),
    }


def test_november_figures_of_towns_and_their_ranking(client, login, november, demo):
    response = _stats(client, login("desk"), region=november["town_a"].code, month="2026-11")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["final"] is False and body["month"] == "2026-11"
    assert datetime.fromisoformat(body["as_of"]) == NOVEMBER_END
    n = november["enterprises_a"]
    figures = body["figures"]
    assert figures == {
        "inspections": 1,
        "inspections_by_kind": {
            "routine": 1,
            "special": 0,
            "random": 0,
            "unannounced": 0,
            "recheck": 0,
            "self": 0,
            "patrol_check": 0,
        },
        "hazards_found": 2,
        "hazards_found_major": 1,
        "hazards_closed": 1,
        "closure_rate": 0.5,
        "hazards_found_by_source": {"inspection": 2, "patrol": 0, "grid_report": 0, "self": 0, "public": 0},
        "hazards_closed_in_month": 1,
        "overdue": 2,  # the major one (deadline 29 November) and October's
        "major_open": 1,
        "major_supervised": 0,
        "enterprises": n,
        "enterprises_patrolled": 1,
        "patrol_coverage": pytest.approx(1 / n),
        "penalty_cases": 0,
        "penalty_amount": "0.00",
        "rank": 1,
        "rank_of": 4,
    }
    # The retailer's village leads the town's villages; the others tie behind it.
    villages = body["children"]
    assert villages[0]["region"]["code"] == november["retailer_village"]
    assert villages[0]["figures"]["hazards_found"] == 2
    assert villages[0]["figures"]["rank"] == 1 and {v["figures"]["rank"] for v in villages[1:]} == {2}
    assert sum(v["figures"]["enterprises"] for v in villages) == n

    district = _stats(client, login("desk"), month="2026-11").get_json()
    assert district["region"]["level"] == "district"
    assert district["figures"]["inspections"] == 2 and district["figures"]["hazards_found"] == 2
    assert district["figures"]["rank_of"] == 1
    assert [t["region"]["code"] for t in district["children"]][0] == november["town_a"].code
    town_b = next(t for t in district["children"] if t["region"]["code"] == november["town_b"].code)
    assert town_b["figures"]["inspections"] == 1 and town_b["figures"]["closure_rate"] is None
    assert town_b["figures"]["rank"] == 2 and town_b["figures"]["enterprises"] == november["enterprises_b"]
    # The county's inspectors sit at the district node: that office did both inspections.
    assert district["office"] == {
        "inspections": 2,
        "inspections_by_kind": district["figures"]["inspections_by_kind"],
        "enterprises_inspected": 2,
        "hazards_found": 2,
        "hazards_found_major": 1,
    }
    assert body["office"]["inspections"] == 0


def test_the_running_month_counts_as_of_now(client, login, november):
    december = _stats(client, login("desk"), region=november["town_a"].code, month="2026-12").get_json()
    assert december["final"] is False and datetime.fromisoformat(december["as_of"]) == DEC_2
    figures = december["figures"]
    assert figures["hazards_found"] == 0 and figures["closure_rate"] is None and figures["inspections"] == 0
    assert figures["overdue"] == 2 and figures["major_open"] == 1 and figures["major_supervised"] == 1
    assert figures["enterprises_patrolled"] == 0


def test_the_job_freezes_the_month_once_and_the_api_serves_it(
    client, login, session, clock, november, run, inspection_body
):
    desk = login("desk")
    live = _stats(client, desk, region=november["town_a"].code, month="2026-11").get_json()

    regions = session.scalar(select(func.count()).select_from(Region))
    # 2 December: November is within its grace days; the job freezes October (nothing happened then).
    assert run("monthly_figures") == {"month": "2026-10", "rows": regions, "already_frozen": False}
    clock.at = DEC_3
    assert run("monthly_figures") == {"month": "2026-11", "rows": regions, "already_frozen": False}
    assert run("monthly_figures") == {"month": "2026-11", "rows": 0, "already_frozen": True}
    assert (
        session.scalar(
            select(func.count()).select_from(MonthlyFigures).where(MonthlyFigures.month == datetime(2026, 11, 1).date())
        )
        == regions
    )

    frozen = _stats(client, desk, region=november["town_a"].code, month="2026-11").get_json()
    assert frozen["final"] is True and frozen["as_of"] == live["as_of"]
    assert frozen["figures"] == live["figures"] and frozen["children"] == live["children"]

    # An inspection of 28 November synced only now changes the live computation, not the published month.
    late = inspection_body(started_at="2026-11-28T09:30:00+08:00", finished_at="2026-11-28T10:00:00+08:00")
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=late).status_code == 201
    again = _stats(client, desk, region=november["town_a"].code, month="2026-11").get_json()
    assert again["final"] is True and again["figures"]["inspections"] == 1


def test_stats_are_scoped_to_the_callers_area(client, login, session, clock, demo):
    town_b = demo.towns[1]
    create_user(
        session,
        username="town2-desk",
        name="白沙镇内勤",
        password="anxun-demo",
        roles=["desk_officer"],
        region_id=town_b.id,
    )
    town_desk = login("town2-desk")
    own = _stats(client, town_desk)
    assert own.status_code == 200 and own.get_json()["region"]["code"] == town_b.code
    # Its rank is among all the district's towns, although it sees only its own figures.
    assert own.get_json()["figures"]["rank_of"] == 4
    hidden = _stats(client, town_desk, region=demo.towns[0].code)
    assert hidden.status_code == 404 and hidden.get_json()["code"] == "region.not_found"
    assert _stats(client, town_desk, region=demo.towns[0].code[:11] + "9").status_code == 404

    forbidden = _stats(client, login("gridworker1"))
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == "forbidden"
    assert _stats(client, login("enterprise1")).status_code == 403

    future = _stats(client, login("desk"), month="2026-12")
    assert future.status_code == 422 and future.get_json()["errors"][0]["code"] == "stats.future_month"
    malformed = _stats(client, login("desk"), month="2026-13")
    assert malformed.status_code == 422 and malformed.get_json()["errors"][0]["field"] == "month"


def test_freezing_a_month_that_has_not_ended_is_refused(session, clock):
    from core.periods import month_period
    from reports.figures import freeze_month

    regions = session.scalar(select(func.count()).select_from(Region))
    with pytest.raises(ValueError, match="has not ended"):
        freeze_month(session, clock, month_period(2026, 11))
    clock.advance(days=10)
    assert freeze_month(session, clock, month_period(2026, 11)) == regions
    assert freeze_month(session, clock, month_period(2026, 11)) == 0
    assert freeze_month(session, clock, month_period(2026, 11), replace=True) == regions
