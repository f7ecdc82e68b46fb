"""What anyone may send never breaks the server: times, text, numbers, nesting and paging outside
what Python or PostgreSQL can hold answer 400/422 (or a rejected change in a push), never 500, and
never poison later reads (README, "What the API accepts")."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from tests.conftest import START
from tests.inspections.conftest import inspection_body, template_of  # noqa: F401  (fixtures)

HAZARDS = "/api/v1/hazards"
PUSH = "/api/v1/sync/push"

# Each is refused: year 1 read back in Asia/Shanghai is year 0; year 9999 with a negative offset is
# year 10000 in UTC; offsets past ±15:59 are beyond PostgreSQL; 1999 and 2100 are outside the window.
BAD_TIMES = [
    "0001-01-01T00:00:00+08:00",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:00:00-05:00",
    "9999-12-31T23:59:59+14:00",
    "2026-11-22T08:00:00+16:00",
    "2026-11-22T08:00:00-23:59",
    "1999-12-31T23:59:59+08:00",
    "2100-01-01T00:00:00+08:00",
]


def post_json(client, path, body, headers):
    """JSON as a phone may send it: ASCII escapes, so lone surrogates travel as ``\\ud800``."""
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def hazard_body(demo, **overrides):
    body = {
        "id": str(uuid.uuid4()),
        "enterprise_id": str(demo.retailer.id),
        "level": "general",
        "description": "门口堆放杂物",
        "location": None,
        "photos": [],
        "found_at": "2026-11-22T08:10:00+08:00",
    }
    body.update(overrides)
    return body


def hazard_change(demo, **data):
    body = hazard_body(demo, **data)
    change_id = body.pop("id")
    return {
        "entity": "hazard",
        "op": "create",
        "id": change_id,
        "recorded_at": "2026-11-22T08:10:00+08:00",
        "data": body,
    }


def push(client, headers, changes, sent_at="2026-11-22T09:00:00+08:00"):
    return post_json(client, PUSH, {"batch_id": str(uuid.uuid4()), "sent_at": sent_at, "changes": changes}, headers)


def field_errors(response) -> set[str]:
    return {e["field"] for e in response.get_json()["errors"]}


# ---- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize("found_at", BAD_TIMES)
def test_a_time_outside_the_window_is_refused_in_rest(client, login, demo, found_at):
    response = post_json(client, HAZARDS, hazard_body(demo, found_at=found_at), login("gridworker1"))
    assert response.status_code == 422, response.get_json()
    assert field_errors(response) == {"found_at"}


def test_year_one_pushed_is_rejected_and_reads_go_on(client, login, demo):
    """The denial of service of issue 16: one hazard found in year 1 made every read of it 500."""
    worker = login("gridworker1")
    response = push(client, worker, [hazard_change(demo, found_at="0001-01-01T00:00:00+08:00"), hazard_change(demo)])
    assert response.status_code == 200
    bad, good = response.get_json()["results"]
    assert bad["status"] == "rejected" and bad["errors"][0]["field"] == "data.found_at"
    assert good["status"] == "applied"
    for who in ("gridworker1", "desk", "admin"):
        assert client.get(HAZARDS, headers=login(who)).status_code == 200
        assert client.get(f"{HAZARDS}/export.xlsx", headers=login(who)).status_code == 200
        assert client.get("/api/v1/sync/pull?limit=2000", headers=login(who)).status_code == 200


@pytest.mark.parametrize("where", ["recorded_at", "data.found_at"])
def test_every_pushed_time_is_judged_by_one_rule(client, login, demo, where):
    change = hazard_change(demo)
    part, _, name = where.rpartition(".")
    (change[part] if part else change)[name] = "9999-12-31T23:00:00-05:00"
    [result] = push(client, login("gridworker1"), [change]).get_json()["results"]
    assert result["status"] == "rejected" and {e["field"] for e in result["errors"]} == {where}


def test_a_recorded_time_may_lie_a_day_ahead_of_the_server_and_no_more(client, login, demo):
    worker = login("gridworker1")
    ahead = (START + timedelta(days=1) - timedelta(minutes=1)).isoformat()
    too_far = (START + timedelta(days=1, minutes=1)).isoformat()
    assert post_json(client, HAZARDS, hazard_body(demo, found_at=ahead), worker).status_code == 201
    response = post_json(client, HAZARDS, hazard_body(demo, found_at=too_far), worker)
    assert response.status_code == 422 and field_errors(response) == {"found_at"}


def test_a_phone_whose_clock_runs_ahead_gets_its_skew_allowed(client, login, demo):
    """A phone three days ahead records times three days ahead: its own sent_at vouches for them."""
    phone_now = START + timedelta(days=3)
    change = hazard_change(demo, found_at=phone_now.isoformat())
    change["recorded_at"] = phone_now.isoformat()
    [result] = push(client, login("gridworker1"), [change], sent_at=phone_now.isoformat()).get_json()["results"]
    assert result["status"] == "applied", result


def test_a_batch_sent_outside_the_window_is_refused_whole(client, login, demo):
    response = push(client, login("gridworker1"), [hazard_change(demo)], sent_at="0001-01-01T00:00:00+08:00")
    assert response.status_code == 422 and field_errors(response) == {"sent_at"}


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "2026-11-22T08:00:00+20:00"])
def test_time_filters_are_judged_by_the_same_rule(client, login, value):
    response = client.get(HAZARDS, query_string={"deadline_from": value}, headers=login("desk"))
    assert response.status_code == 422 and field_errors(response) == {"deadline_from"}


def test_patrol_and_inspection_times_are_judged_too(client, login, demo, session, inspection_body):
    worker = login("gridworker1")
    body = {
        "id": str(uuid.uuid4()),
        "grid_id": str(demo.grid_of["gridworker1"]),
        "started_at": "2026-11-22T08:00:00+08:00",
        "track": {
            "coordinates": [[107.8, 30.7], [107.801, 30.701]],
            "times": ["2026-11-22T08:00:00+08:00", "0001-01-01T00:00:00+08:00"],
        },
        "visits": [],
        "notes": "",
    }
    response = post_json(client, "/api/v1/patrols", body, worker)
    assert response.status_code == 422 and field_errors(response) == {"track.times.1"}
    response = post_json(
        client, "/api/v1/inspections", inspection_body(started_at="9999-12-31T23:00:00-05:00"), login("inspector1")
    )
    assert response.status_code == 422 and field_errors(response) == {"started_at"}


def test_a_deadline_beyond_the_window_is_refused(client, login, demo):
    created = post_json(client, HAZARDS, hazard_body(demo), login("gridworker1")).get_json()
    response = post_json(
        client,
        f"{HAZARDS}/{created['id']}/transitions",
        {
            "action": "order",
            "base_version": created["version"],
            "deadline": "9999-12-31T23:00:00-05:00",
            "responsible_person": "张三",
            "measures": "清理",
        },
        login("desk"),
    )
    assert response.status_code == 422 and field_errors(response) == {"deadline"}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offset_minutes=st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
def test_the_time_field_accepts_exactly_what_can_be_stored_and_shown(moment, offset_minutes):
    from marshmallow import ValidationError

    from core.clock import SHANGHAI
    from core.times import EARLIEST, LATEST, AcceptedTime

    value = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    try:
        loaded = AcceptedTime().deserialize(value.isoformat())
    except ValidationError:
        assert not (EARLIEST <= value < LATEST and abs(offset_minutes) <= 14 * 60)
        return
    assert EARLIEST <= loaded < LATEST and loaded == value
    loaded.astimezone(SHANGHAI).astimezone(timezone.utc)  # shown in Shanghai, stored in UTC: both hold


# ---- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfffy"])
def test_nul_and_lone_surrogates_are_refused_by_field_in_rest(client, login, demo, bad):
    response = post_json(client, HAZARDS, hazard_body(demo, description=bad), login("gridworker1"))
    assert response.status_code == 422 and field_errors(response) == {"description"}


def test_bad_text_in_a_key_of_a_free_form_value_is_refused(client, login, inspection_body):
    body = inspection_body()
    body["answers"][0]["value"] = {"ok\x00": 1}
    response = post_json(client, "/api/v1/inspections", body, login("inspector1"))
    assert response.status_code == 422 and field_errors(response) == {"answers.0.value.ok\\u0000"}


@pytest.mark.parametrize("query", [{"q": "a\x00"}, {"region": "\x00"}])
def test_bad_text_in_a_query_is_refused(client, login, query):
    response = client.get("/api/v1/enterprises", query_string=query, headers=login("desk"))
    assert response.status_code == 422 and field_errors(response) == set(query)


def test_bad_text_in_a_path_is_refused(client, login):
    response = client.get("/api/v1/checklists/a%00b", headers=login("desk"))
    assert response.status_code == 422


def test_one_change_with_bad_text_is_rejected_alone(client, login, demo):
    """Changes are independent (SYNC_PROTOCOL.md §2 rule 2): the good ones beside it are applied."""
    changes = [
        hazard_change(demo),
        hazard_change(demo, description="坏\x00字"),
        hazard_change(demo, description="\ud83d"),
        hazard_change(demo),
    ]
    response = push(client, login("gridworker1"), changes)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert results[1]["errors"][0]["field"] == "data.description"
    assert results[2]["errors"][0]["field"] == "data.description"


def test_bad_text_in_the_change_envelope_is_rejected_alone(client, login, demo):
    bad = hazard_change(demo)
    bad["entity"] = "hazard\x00"
    results = push(client, login("gridworker1"), [bad, hazard_change(demo)]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]


def test_bad_text_in_the_batch_id_is_refused(client, login, demo):
    body = {"batch_id": "b\x00", "sent_at": "2026-11-22T09:00:00+08:00", "changes": [hazard_change(demo)]}
    response = post_json(client, PUSH, body, login("gridworker1"))
    assert response.status_code == 422 and field_errors(response) == {"batch_id"}


# ---- numbers and coordinates -------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])
def test_non_finite_numbers_are_refused_by_field(client, login, inspection_body, number):
    body = inspection_body()
    body["answers"][0]["value"] = "@"
    text = json.dumps(body).replace('"@"', number)
    response = client.post(
        "/api/v1/inspections", data=text, content_type="application/json", headers=login("inspector1")
    )
    assert response.status_code == 422 and field_errors(response) == {"answers.0.value"}


RING = [[107.80, 30.70], [107.81, 30.70], [107.81, 30.71], ["@", 30.71], [107.80, 30.70]]


@pytest.mark.parametrize("number", ["1e400", "NaN", "-Infinity", "1" + "0" * 400])
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/api/v1/grids", {"name": "测试网格", "geometry": {"type": "Polygon", "coordinates": [RING]}}),
        (
            "POST",
            "/api/v1/grids",
            {
                "name": "测试网格",
                "split": {
                    "village": "500299001001",
                    "keep": "inside",
                    "blade": {"type": "Polygon", "coordinates": [RING]},
                },
            },
        ),
        (
            "POST",
            "/api/v1/grids",
            {
                "name": "测试网格",
                "split": {
                    "village": "500299001001",
                    "at": {"lon": "@", "lat": 30.7},
                    "blade": {"type": "LineString", "coordinates": RING[:2]},
                },
            },
        ),
        ("PATCH", "/api/v1/grids/{grid}", {"version": 1, "geometry": {"type": "Polygon", "coordinates": [RING]}}),
        (
            "POST",
            "/api/v1/regions/import",
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "500299001099", "name": "测试村"},
                        "geometry": {"type": "Polygon", "coordinates": [RING]},
                    }
                ],
            },
        ),
        ("GET", "/api/v1/regions/{town}/coverage?min_area_m2=@", None),
    ],
)
def test_a_geojson_coordinate_or_number_that_is_not_finite_is_refused(client, login, demo, method, path, body, number):
    url = path.format(grid=demo.grid_of["gridworker1"], town=demo.towns[0].code).replace("@", number)
    text = json.dumps(body).replace('"@"', number) if body is not None else None
    response = client.open(url, method=method, data=text, content_type="application/json", headers=login("admin"))
    assert response.status_code == 422, response.get_json()


@pytest.mark.parametrize("number", [10**400, float("inf"), float("nan"), True, "107.8"])
def test_a_vertex_that_is_not_a_finite_number_is_malformed_also_from_a_file(number):
    """The boundary import from a file (flask anxun import-boundaries) checks vertices without the REST parser."""
    from geo.geometry import check_structure

    ring = [[107.80, 30.70], [107.81, 30.70], [107.81, 30.71], [number, 30.71], [107.80, 30.70]]
    geometry, problem = check_structure({"type": "Polygon", "coordinates": [ring]})
    assert geometry is None and problem.code == "geo.malformed_geometry"


def test_a_pushed_number_that_is_not_finite_rejects_that_change_alone(client, login, demo, session):
    from tests.sync.payloads import inspection_change

    inspection, _ = inspection_change(
        session, demo.retailer.id, [demo.users["inspector1"].id, demo.users["inspector2"].id]
    )
    inspection["data"]["answers"][0]["value"] = "@"
    hazard = hazard_change(demo, location={"lon": "@", "lat": 30.7})
    batch = {
        "batch_id": str(uuid.uuid4()),
        "sent_at": "2026-11-22T09:00:00+08:00",
        "changes": [inspection, hazard, hazard_change(demo)],
    }
    response = client.post(
        PUSH,
        data=json.dumps(batch).replace('"@"', "1e400"),
        content_type="application/json",
        headers=login("inspector1"),
    )
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert results[0]["errors"][0]["field"] == "data.answers.0.value"
    assert results[1]["errors"][0]["field"] == "data.location.lon"


@pytest.mark.parametrize("point", [[1e300, 30.7], [107.8, 95], [-181, 0], [107.8, -90.5]])
def test_track_points_off_the_globe_are_refused(client, login, demo, point):
    body = {
        "id": str(uuid.uuid4()),
        "grid_id": str(demo.grid_of["gridworker1"]),
        "started_at": "2026-11-22T08:00:00+08:00",
        "track": {"coordinates": [[107.8, 30.7], point]},
        "visits": [],
        "notes": "",
    }
    response = post_json(client, "/api/v1/patrols", body, login("gridworker1"))
    assert response.status_code == 422
    assert field_errors(response) <= {"track.coordinates.1.0", "track.coordinates.1.1"}


@pytest.mark.parametrize(
    "point", [{"lon": 180.5, "lat": 30}, {"lon": 107.8, "lat": 90.01}, {"lon": 10**400, "lat": 30}]
)
def test_locations_off_the_globe_are_refused(client, login, demo, point):
    response = post_json(client, HAZARDS, hazard_body(demo, location=point), login("gridworker1"))
    assert response.status_code == 422


# ---- nesting, paging, months, cursors ----------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_json_at_login_is_a_400(client, depth):
    response = client.post("/api/v1/auth/login", data="[" * depth + "]" * depth, content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_deep_json_in_a_push_is_a_400(client, login):
    body = '{"batch_id": "x", "sent_at": "2026-11-22T09:00:00+08:00", "changes": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(PUSH, data=body, content_type="application/json", headers=login("gridworker1"))
    assert response.status_code == 400


def test_deep_json_is_a_400_on_every_json_endpoint(client, login):
    spec = client.get("/api/v1/openapi.json").get_json()
    roles = [login(name) for name in ("admin", "gridworker1")]  # the one a grid worker's endpoints refuse to admin
    deep = '{"a":' * 50_000 + "1" + "}" * 50_000
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters" or "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            url = re.sub(r"{[^}]+}", str(uuid.uuid4()), path)  # no such record: the 400 comes first
            answers = [
                client.open(
                    url, method=method.upper(), data=deep, content_type="application/json", headers=headers
                ).status_code
                for headers in roles
            ]
            assert 400 in answers and set(answers) <= {400, 403}, (method, path, answers)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "query", [{"page": 2**63}, {"page": 10**30}, {"page": 0}, {"per_page": 0}, {"per_page": 501}, {"page": 1_000_001}]
)
def test_paging_outside_its_bounds_is_a_422(client, login, query):
    for path in (HAZARDS, "/api/v1/enterprises", "/api/v1/grids", "/api/v1/plans"):
        response = client.get(path, query_string=query, headers=login("desk"))
        assert response.status_code == 422, (path, query)


def test_the_last_page_allowed_answers(client, login):
    response = client.get(HAZARDS, query_string={"page": 1_000_000, "per_page": 500}, headers=login("desk"))
    assert response.status_code == 200 and response.get_json()["items"] == []


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12", "2100-01", "2026-1", "2026-11\n"])
def test_months_outside_the_window_are_a_422(client, login, month):
    response = client.get("/api/v1/stats/monthly", query_string={"month": month}, headers=login("desk"))
    assert response.status_code == 422 and field_errors(response) == {"month"}


def test_months_from_the_first_of_the_window_to_this_month_answer(client, login):
    for month in ("2000-01", START.strftime("%Y-%m")):
        response = client.get("/api/v1/stats/monthly", query_string={"month": month}, headers=login("desk"))
        assert response.status_code == 200
    response = client.get("/api/v1/stats/monthly", query_string={"month": "2099-12"}, headers=login("desk"))
    assert response.status_code == 422 and response.get_json()["errors"][0]["code"] == "stats.future_month"


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("raw", [[1, 2], "cursor", 7, None])
def test_a_cursor_that_is_not_an_object_answers_reset(client, login, raw):
    response = client.get(
        "/api/v1/sync/pull", query_string={"cursor": _cursor(raw), "limit": 5}, headers=login("gridworker1")
    )
    assert response.status_code == 200 and response.get_json()["reset"] is True


@pytest.mark.parametrize(
    "change",
    [
        {"p": [1e300, 0]},
        {"p": [-5, 0]},
        {"p": [2**64, 0]},
        {"p": [1, 2, 3]},
        {"f": [2**63, 0]},
        {"b": {"after": ["hazard", "a\x00"], "head": [1, 1]}},
        {"b": {"after": ["hazard", "\ud800"], "head": [1, 1]}},
    ],
)
def test_a_cursor_of_ours_with_numbers_or_keys_we_never_issue_answers_reset(client, login, change):
    """Forged from a real cursor, so that only the changed part can make it unreadable."""
    officer = login("desk")
    issued = client.get("/api/v1/sync/pull", query_string={"limit": 5}, headers=officer).get_json()["cursor"]
    raw = json.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**raw, **change}).encode()).decode().rstrip("=")
    response = client.get("/api/v1/sync/pull", query_string={"cursor": forged, "limit": 5}, headers=officer)
    assert response.status_code == 200 and response.get_json()["reset"] is True


# ---- EXIF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "taken, offset",
    [("0001:01:01 00:00:00", None), ("9999:12:31 23:00:00", "-05:00"), ("1970:01:01 08:00:00", "+08:00")],
)
def test_an_exif_time_outside_the_window_counts_as_missing(client, login, taken, offset):
    from tests.evidence import images
    from tests.evidence.uploads import upload

    worker = login("gridworker1")
    sha = upload(client, worker, images.jpeg(exif=images.make_exif(taken=taken, offset=offset)))
    response = client.get(f"/api/v1/photos/{sha}", headers=worker)
    assert response.status_code == 200 and response.get_json()["taken_at"] is None


# ---- found by schemathesis (tests/api/test_schemathesis.py) and by reading the constraints ------


def test_a_draw_whose_window_ends_before_it_starts_is_a_422(client, login):
    response = post_json(
        client,
        "/api/v1/plans/random-draw",
        {"count": 1, "window_start": "2026-12-02", "window_end": "2026-12-01"},
        login("desk"),
    )
    assert response.status_code == 422 and field_errors(response) == {"window_end"}


def test_a_long_device_id_can_log_out_and_be_revoked(client, login):
    """Device ids may be 128 characters; the audit log kept 64 of them."""
    device = "d" * 128
    headers = login("gridworker1", device_id=device)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    login("gridworker1", device_id=device)
    assert client.delete(f"/api/v1/devices/{device}", headers=login("desk")).status_code in (200, 204)


@pytest.fixture
def exploding_hazards(committed_app):
    """The committed database with a trigger that fails any hazard described as 'boom': an error
    no check of ours foresees, raised by the real database inside one change's savepoint."""
    from sqlalchemy import create_engine, text

    engine = create_engine(committed_app[2])
    with engine.begin() as conn:
        conn.execute(
            text("""
            CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.description = 'boom' THEN RAISE EXCEPTION 'boom'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER boom BEFORE INSERT ON hazards FOR EACH ROW EXECUTE FUNCTION boom();""")
        )
    engine.dispose()
    return committed_app


def _served_app(url, tmp_path, *, testing):
    from api.app import create_app
    from config.settings import Settings
    from core.clock import FixedClock

    settings = Settings.from_env({}, database_url=url, testing=testing, photo_root=str(tmp_path / "photos"))
    return create_app(settings, clock=FixedClock(START))


def test_an_unexpected_error_in_one_change_rejects_that_change_alone(exploding_hazards, demo, tmp_path):
    app = _served_app(exploding_hazards[2], tmp_path, testing=False)
    try:
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/login",
            json={"username": "gridworker1", "password": "anxun-demo", "device": {"id": "boom-phone"}},
        ).get_json()["token"]
        changes = [hazard_change(demo), hazard_change(demo, description="boom"), hazard_change(demo)]
        response = push(client, {"Authorization": f"Bearer {token}"}, changes)
        assert response.status_code == 200
        results = response.get_json()["results"]
        assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
        assert results[1]["code"] == "sync.internal_error" and results[1]["retryable"] is True
    finally:
        app.extensions["anxun"].dispose()


def test_under_testing_an_unexpected_error_in_a_change_fails_the_test(exploding_hazards, demo):
    from sqlalchemy.exc import InternalError

    client = exploding_hazards[0].test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "gridworker1", "password": "anxun-demo", "device": {"id": "boom-phone"}}
    ).get_json()["token"]
    with pytest.raises(InternalError):
        push(client, {"Authorization": f"Bearer {token}"}, [hazard_change(demo, description="boom")])
