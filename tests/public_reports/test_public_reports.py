"""12350 群众举报: the public sends, follows by code; the desk triages, assigns, concludes, rewards.
The challenge, the daily limit per address, and who may see the reporter's identity."""

import uuid


from inspections.models import Task
from tests.evidence.images import jpeg
from tests.public_reports.conftest import solve


def _act(client, headers, report_id, version, **data):
    return client.post(
        f"/api/v1/public-reports/{report_id}/actions", headers=headers, json={"base_version": version, **data}
    )


def _report_id(client, login, code):
    items = client.get("/api/v1/public-reports", headers=login("desk")).get_json()["items"]
    return next(item["id"] for item in items if item["code"] == code)


def test_a_report_with_a_photo_gets_a_code_that_shows_status_and_outcome_only(client, login, send_report):
    response = send_report(photos=[jpeg()], name="李四", phone="13800000000")
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["code"]
    assert len(code) == 10 and code.isalnum() and code.upper() == code
    public = client.get(f"/api/v1/public/reports/{code.lower()}")
    assert public.status_code == 200
    assert public.get_json().keys() == {"code", "status", "status_label", "outcome", "received_at", "updated_at"}
    # Times in Beijing time, like every answer (core.times.ShownTime).
    assert public.get_json()["received_at"].endswith("+08:00") and response.get_json()["received_at"].endswith("+08:00")
    assert "李四" not in public.get_data(as_text=True) and "13800000000" not in public.get_data(as_text=True)
    assert public.headers["Content-Type"].startswith("application/json")
    unknown = client.get("/api/v1/public/reports/AAAAAAAAAA")
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "public.unknown_code"

    desk = client.get("/api/v1/public-reports", headers=login("desk")).get_json()["items"][0]
    assert desk["reporter"] == {"name": "李四", "phone": "13800000000", "client_address": "203.0.113.7"}
    assert len(desk["photos"]) == 1
    photo = client.get(f"/api/v1/photos/{desk['photos'][0]}/thumb", headers=login("desk"))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"


def test_the_reporter_identity_is_for_the_desk_of_the_region_only(client, login, send_report):
    code = send_report(name="王五", phone="13900000000").get_json()["code"]
    report_id = _report_id(client, login, code)
    for username in ("gridworker1", "inspector1"):
        seen = client.get(f"/api/v1/public-reports/{report_id}", headers=login(username))
        assert seen.status_code == 200, username
        assert "reporter" not in seen.get_json() and "王五" not in seen.get_data(as_text=True), username
        listed = client.get("/api/v1/public-reports", headers=login(username)).get_data(as_text=True)
        assert "13900000000" not in listed and "203.0.113.7" not in listed, username
    # Outside the report's grid: not there at all.
    assert client.get(f"/api/v1/public-reports/{report_id}", headers=login("gridworker3")).status_code == 404
    assert client.get(f"/api/v1/public-reports/{report_id}", headers=login("enterprise1")).status_code == 403
    assert (
        client.get(f"/api/v1/public-reports/{report_id}", headers=login("admin")).get_json()["reporter"]["name"]
        == "王五"
    )
    # Only the desk handles reports.
    refused = _act(client, login("inspector1"), report_id, 1, action="triage", decision="to_verify")
    assert refused.status_code == 403


def test_triage_assignment_outcome_and_reward(client, login, send_report, demo, session):
    first = _report_id(client, login, send_report().get_json()["code"])
    second_code = send_report().get_json()["code"]
    second = _report_id(client, login, second_code)
    other = _report_id(client, login, send_report(what="邻居家吵架").get_json()["code"])
    desk = login("desk")

    duplicate = _act(client, desk, second, 1, action="triage", decision="duplicate", duplicate_of=first)
    assert duplicate.status_code == 200 and duplicate.get_json()["status"] == "duplicate"
    assert client.get(f"/api/v1/public/reports/{second_code}").get_json()["status"] == "duplicate"
    not_safety = _act(client, desk, other, 1, action="triage", decision="not_safety", outcome="已转交派出所")
    assert not_safety.get_json()["status"] == "not_safety"
    stale = _act(client, desk, first, 5, action="triage", decision="to_verify")
    assert stale.status_code == 409 and stale.get_json()["current"]["version"] == 1
    assert _act(client, desk, first, 1, action="triage", decision="to_verify").get_json()["status"] == "to_verify"
    too_early = _act(client, desk, first, 2, action="reward", amount=200)
    assert too_early.status_code == 409

    wrong_worker = _act(client, desk, first, 2, action="assign", assignee_id=str(demo.users["gridworker3"].id))
    assert wrong_worker.status_code == 422 and wrong_worker.get_json()["errors"][0]["field"] == "assignee_id"
    assigned = _act(client, desk, first, 2, action="assign", assignee_id=str(demo.users["gridworker1"].id))
    assert assigned.status_code == 200, assigned.get_json()
    task = session.get(Task, uuid.UUID(assigned.get_json()["task_id"]))
    assert task.kind == "verify_report" and task.assignee_id == demo.users["gridworker1"].id
    assert task.target_entity == "public_report" and str(task.target_id) == first

    concluded = _act(
        client,
        desk,
        first,
        3,
        action="conclude",
        result="verified",
        outcome="经核查属实，已责令整改",
        enterprise_id=str(demo.retailer.id),
        case_ref="应急罚〔2026〕12号",
    )
    assert concluded.status_code == 200, concluded.get_json()
    body = concluded.get_json()
    assert body["status"] == "verified" and body["enterprise_id"] == str(demo.retailer.id)
    rewarded = _act(client, desk, first, 4, action="reward", amount="200.00")
    assert rewarded.get_json()["reward_amount"] == "200.00" and rewarded.get_json()["reward_paid"] is False
    paid = _act(client, desk, first, 5, action="reward", amount="200.00", paid=True)
    assert paid.get_json()["reward_paid"] is True and paid.get_json()["reward_paid_at"]
    rewarded_list = client.get("/api/v1/public-reports", headers=desk, query_string={"reward": "true"}).get_json()
    assert [item["id"] for item in rewarded_list["items"]] == [first]


def test_the_challenge_is_required_solved_and_single_use(client, send_report):
    challenge = client.get("/api/v1/public/challenge").get_json()
    missing = client.post("/api/v1/public/reports", json={"what": "x", "location": {"lon": 107.8, "lat": 30.7}})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.get_json()["errors"]} >= {"challenge", "nonce"}
    wrong = send_report(challenge=challenge, solved=False, nonce="not-a-solution")
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "public.challenge_failed"
    last = challenge["challenge"][-1]
    forged = send_report(
        challenge={**challenge, "challenge": challenge["challenge"][:-1] + ("1" if last == "0" else "0")}
    )
    assert forged.status_code == 422 and forged.get_json()["code"] == "public.challenge_failed"
    assert send_report(challenge=challenge).status_code == 201
    reused = send_report(challenge=challenge)
    assert reused.status_code == 409 and reused.get_json()["code"] == "public.challenge_used"


def test_the_31st_report_from_one_address_in_a_day_is_refused(client, send_report, clock):
    for n in range(30):
        assert send_report(address="198.51.100.9").status_code == 201, n
    refused = send_report(address="198.51.100.9")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["code"] == "public.rate_limited" and "每天最多" in problem["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert send_report(address="198.51.100.10").status_code == 201  # another address is not held back
    clock.advance(seconds=int(refused.headers["Retry-After"]))
    assert send_report(address="198.51.100.9").status_code == 201  # a new local day


def test_behind_the_trusted_proxy_the_limit_counts_the_forwarded_client(
    settings, session_factory, clock, retailer_point
):
    """ANXUN_TRUSTED_PROXIES=1: the address is the client the proxy saw, not the proxy's own."""
    from dataclasses import replace

    from api.app import create_app

    app = create_app(
        replace(settings, trusted_proxies=1, public_reports_per_address_per_day=1),
        session_factory=session_factory,
        clock=clock,
    )
    client = app.test_client()

    def send(forwarded_for):
        challenge = client.get("/api/v1/public/challenge").get_json()
        return client.post(
            "/api/v1/public/reports",
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
            headers={"X-Forwarded-For": forwarded_for},
            json={
                "challenge": challenge["challenge"],
                "nonce": solve(challenge),
                "what": "非法储存",
                "location": retailer_point,
            },
        )

    assert send("198.51.100.1").status_code == 201
    assert send("198.51.100.2").status_code == 201  # the proxy's address is shared, the clients' are not
    assert send("198.51.100.1").status_code == 429


def test_photos_within_staff_limits_only(client, send_report, app):
    not_an_image = send_report(photos=[b"hello, not a photo"])
    assert not_an_image.status_code == 415
    too_many = send_report(photos=[jpeg(), jpeg((10, 10)), jpeg((20, 20)), jpeg((30, 30))])
    assert too_many.status_code == 422 and too_many.get_json()["errors"][0]["field"] == "photos"


def test_the_report_page_learns_its_limits_and_map_without_a_login(client, app):
    response = client.get("/api/v1/public/config")
    assert response.status_code == 200
    config = response.get_json()
    settings = app.extensions["anxun"].settings
    assert config["max_photos"] == settings.public_report_max_photos
    assert config["max_photo_bytes"] == settings.max_photo_bytes
    assert config["max_photo_pixels"] == settings.max_photo_pixels
    assert config["max_request_bytes"] == app.config["MAX_CONTENT_LENGTH"]
    assert config["reports_per_day"] == settings.public_reports_per_address_per_day
    # No tiles set: the page offers GPS and a text address; the demo district's extent to centre on.
    assert config["map"]["tile_url"] is None
    bounds = config["map"]["bounds"]
    assert bounds["west"] < bounds["east"] and bounds["south"] < bounds["north"]
    assert 73 < bounds["west"] < 136 and 3 < bounds["south"] < 54
