"""People administration over HTTP (/api/v1/users): create, edit, deactivate, reset a password, a
person's devices — who may do it to whom (admins; desk officers within their region subtree, never
to or as an admin), the temporary password that only lets its holder choose a new one, and the audit
log of every change."""

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from tests.accounts.conftest import NEW_PASSWORD


def _login(client, username, password, device="phone-1"):
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password, "device": {"id": device}}
    )


def _bearer(answer) -> dict:
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def _audits(session, entity_id, action=None):
    stmt = select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.entity_id == str(entity_id))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(session.scalars(stmt.order_by(AuditEntry.id)))


def test_a_new_grid_worker_gets_a_grid_and_a_temporary_password_that_only_changes_itself(client, login, demo, session):
    desk = login("desk")
    village, grid = demo.villages[2], next(g for g in demo.grids if g.name == f"{demo.villages[2].name}网格")
    made = client.post(
        "/api/v1/users",
        headers=desk,
        json={"name": "吴新网格", "roles": ["grid_worker"], "phone": "+86 139-0000-0001", "grid_ids": [str(grid.id)]},
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["username"] == body["phone"] == "13900000001"  # the username rule: the phone number
    assert body["region"]["code"] == village.code  # the village of the grid
    assert body["grids"] == [{"id": str(grid.id), "name": grid.name}]
    assert body["must_change_password"] is True and body["active"] is True and body["version"] == 1
    temporary = body["temporary_password"]
    assert len(temporary) == 12
    assert "temporary_password" not in client.get(f"/api/v1/users/{body['id']}", headers=desk).get_json()
    [entry] = _audits(session, body["id"], "create")
    assert entry.actor_id == demo.users["desk"].id and "password" not in str(entry.summary)

    first = _login(client, "13900000001", temporary)
    assert first.status_code == 200 and first.get_json()["must_change_password"] is True
    pending = _bearer(first)
    for path in ("/api/v1/grids", "/api/v1/sync/pull", "/api/v1/people"):
        refused = client.get(path, headers=pending)
        assert refused.status_code == 403 and refused.get_json()["code"] == "auth.password_change_required", path
    wrong = client.post(
        "/api/v1/auth/password", headers=pending, json={"current_password": "not-it-1", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "auth.wrong_password"
    assert wrong.get_json()["errors"][0]["field"] == "current_password"
    for weak in ("short1", "onlyletters", "139000000012345", temporary):
        refused = client.post(
            "/api/v1/auth/password", headers=pending, json={"current_password": temporary, "new_password": weak}
        )
        assert refused.status_code == 422 and refused.get_json()["code"] == "auth.weak_password", weak
    changed = client.post(
        "/api/v1/auth/password", headers=pending, json={"current_password": temporary, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    # The same token now has full rights: the new worker sees their grid.
    grids = client.get("/api/v1/grids", headers=pending).get_json()["features"]
    assert [f["id"] for f in grids] == [str(grid.id)]
    assert _login(client, "13900000001", temporary).status_code == 401
    again = _login(client, "13900000001", NEW_PASSWORD, device="phone-2")
    assert again.status_code == 200 and again.get_json()["must_change_password"] is False
    assert _audits(session, body["id"], "change_password")


def test_changing_a_password_ends_the_other_tokens(client, login, first_login):
    desk = login("desk")
    made = client.post(
        "/api/v1/users",
        headers=desk,
        json={
            "name": "改密者",
            "roles": ["inspector"],
            "phone": "13900000002",
            "region": "500299000000",
            "enforcement_cert_no": "50029920269999",
        },
    ).get_json()
    headers = first_login(made["username"], made["temporary_password"], device_id="a")
    other = _bearer(_login(client, made["username"], NEW_PASSWORD, device="b"))
    assert client.get("/api/v1/enterprises", headers=other).status_code == 200
    assert (
        client.post(
            "/api/v1/auth/password",
            headers=headers,
            json={"current_password": NEW_PASSWORD, "new_password": "Another-pass-2"},
        ).status_code
        == 204
    )
    assert client.get("/api/v1/enterprises", headers=other).status_code == 401
    assert client.get("/api/v1/enterprises", headers=headers).status_code == 200


def test_inspectors_need_a_certificate_and_enterprise_officers_an_enterprise(client, login, demo):
    desk = login("desk")
    no_cert = client.post(
        "/api/v1/users",
        headers=desk,
        json={"name": "无证", "roles": ["inspector"], "phone": "13900000003", "region": "500299000000"},
    )
    assert no_cert.status_code == 422 and no_cert.get_json()["code"] == "users.cert_required"
    certified = client.post(
        "/api/v1/users",
        headers=desk,
        json={
            "name": "有证",
            "roles": ["inspector"],
            "phone": "13900000003",
            "region": "500299000000",
            "enforcement_cert_no": "50029920260100",
            "enforcement_cert_valid_until": "2026-11-01",
        },
    )
    assert certified.status_code == 201
    assert certified.get_json()["enforcement_cert"] == {
        "number": "50029920260100",
        "valid_until": "2026-11-01",
        "valid": False,
    }  # expired before the demo's today
    no_enterprise = client.post(
        "/api/v1/users", headers=desk, json={"name": "安全员", "roles": ["enterprise_officer"], "phone": "13900000004"}
    )
    assert no_enterprise.status_code == 422
    assert {e["code"] for e in no_enterprise.get_json()["errors"]} >= {"users.enterprise_required"}
    officer = client.post(
        "/api/v1/users",
        headers=desk,
        json={
            "name": "安全员",
            "roles": ["enterprise_officer"],
            "phone": "13900000004",
            "enterprise_id": str(demo.retailer.id),
        },
    )
    assert officer.status_code == 201, officer.get_json()
    village = next(v for v in demo.villages if v.id == demo.retailer.region_id)
    assert officer.get_json()["region"]["code"] == village.code


def test_phone_numbers_are_checked_and_name_one_account(client, login, demo):
    desk = login("desk")
    bad = client.post(
        "/api/v1/users",
        headers=desk,
        json={"name": "甲", "roles": ["grid_worker"], "phone": "12345", "region": demo.villages[0].code},
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0] == {
        "code": "users.phone_invalid",
        "field": "phone",
        "message": "手机号应为 11 位中国大陆手机号",
    }
    taken = client.post(
        "/api/v1/users",
        headers=desk,
        json={
            "name": "乙",
            "roles": ["grid_worker"],
            "phone": "138 0000 1001",
            "username": "yi",
            "region": demo.villages[0].code,
        },
    )
    assert taken.status_code == 409 and taken.get_json()["code"] == "users.phone_taken"  # the demo desk's
    username = client.post(
        "/api/v1/users",
        headers=desk,
        json={"name": "丙", "roles": ["grid_worker"], "username": "gridworker1", "region": demo.villages[0].code},
    )
    assert username.status_code == 409 and username.get_json()["code"] == "users.username_taken"
    nameless = client.post(
        "/api/v1/users", headers=desk, json={"name": "丁", "roles": ["grid_worker"], "region": demo.villages[0].code}
    )
    assert nameless.status_code == 422 and nameless.get_json()["code"] == "users.username_required"


def test_desk_officers_grant_no_admin_and_do_not_see_admins(client, login, demo):
    desk = login("desk")
    refused = client.post(
        "/api/v1/users",
        headers=desk,
        json={"name": "新管理员", "roles": ["admin"], "phone": "13900000005", "region": "500299000000"},
    )
    assert refused.status_code == 403 and refused.get_json()["code"] == "users.role_not_allowed"
    admin_id = demo.users["admin"].id
    for method in ("get", "patch", "delete"):
        answer = getattr(client, method)(
            f"/api/v1/users/{admin_id}",
            headers=desk,
            **({"json": {"version": 1, "name": "x"}} if method == "patch" else {}),
        )
        assert answer.status_code == 404, method
    assert client.post(f"/api/v1/users/{admin_id}/password-reset", headers=desk).status_code == 404
    listed = client.get("/api/v1/users?per_page=500", headers=desk).get_json()["items"]
    assert "admin" not in {u["username"] for u in listed} and "desk" in {u["username"] for u in listed}
    promote = client.patch(
        f"/api/v1/users/{demo.users['inspector1'].id}",
        headers=desk,
        json={"version": 1, "roles": ["inspector", "admin"]},
    )
    assert promote.status_code == 403
    # An admin may.
    made = client.post(
        "/api/v1/users",
        headers=login("admin"),
        json={"name": "新管理员", "roles": ["admin"], "phone": "13900000005", "region": "500299000000"},
    )
    assert made.status_code == 201


@pytest.mark.parametrize("role", ["inspector1", "gridworker1", "enterprise1"])
def test_only_admins_and_desk_officers_administer_people(client, login, demo, role):
    headers = login(role)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert (
        client.post(
            "/api/v1/users",
            headers=headers,
            json={"name": "x", "roles": ["grid_worker"], "phone": "13900000006", "region": demo.villages[0].code},
        ).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/users/{demo.users['gridworker1'].id}/password-reset", headers=headers).status_code == 403
    )


def test_a_town_desk_officer_acts_only_within_the_town(client, login, demo, town_desk):
    town_a, town_b = demo.towns[0], demo.towns[1]
    desk_a = login(town_desk(town_a))
    inside, outside = demo.users["gridworker1"], demo.users["gridworker3"]  # 青石镇, 白沙镇
    listed = {u["username"] for u in client.get("/api/v1/users?per_page=500", headers=desk_a).get_json()["items"]}
    assert {"gridworker1", "gridworker2", "enterprise1"} <= listed
    assert not listed & {"gridworker3", "desk", "inspector1", "admin"}
    for path, method, kwargs in (
        ("", "get", {}),
        ("", "patch", {"json": {"version": 1, "name": "改"}}),
        ("", "delete", {}),
        ("/password-reset", "post", {}),
        ("/devices", "get", {}),
        ("/devices/any-device", "delete", {}),
        ("/reactivate", "post", {}),
    ):
        answer = getattr(client, method)(f"/api/v1/users/{outside.id}{path}", headers=desk_a, **kwargs)
        assert answer.status_code == 404, (method, path, answer.get_json())
    assert client.get(f"/api/v1/users/{inside.id}", headers=desk_a).status_code == 200
    # Nor can they place a new person (or move one) outside the town.
    village_b = next(v for v in demo.villages if v.parent_id == town_b.id)
    placed = client.post(
        "/api/v1/users",
        headers=desk_a,
        json={"name": "越界", "roles": ["grid_worker"], "phone": "13900000007", "region": village_b.code},
    )
    assert placed.status_code == 422 and placed.get_json()["errors"][0]["code"] == "users.unknown_region"
    grid_b = demo.grid_of["gridworker3"]
    moved = client.patch(f"/api/v1/users/{inside.id}", headers=desk_a, json={"version": 1, "grid_ids": [str(grid_b)]})
    assert moved.status_code == 422 and moved.get_json()["errors"][0]["code"] == "users.unknown_grid"
    district = client.post(
        "/api/v1/users",
        headers=desk_a,
        json={
            "name": "县里",
            "roles": ["inspector"],
            "phone": "13900000008",
            "region": "500299000000",
            "enforcement_cert_no": "X1",
        },
    )
    assert district.status_code == 422


def test_edits_keep_the_version_the_etag_and_the_audit(client, login, demo, session):
    desk = login("desk")
    worker = demo.users["gridworker1"]
    path = f"/api/v1/users/{worker.id}"
    first = client.get(path, headers=desk)
    tag = first.headers["ETag"]
    other_grid = next(
        g
        for g in demo.grids
        if g.town_id == demo.towns[0].id and g.id != demo.grid_of["gridworker1"] and g.id != demo.grid_of["gridworker2"]
    )
    version_before = other_grid.version
    edited = client.patch(
        path,
        headers={**desk, "If-Match": tag},
        json={"version": 1, "name": "赵网格（改）", "phone": "13900000009", "grid_ids": [str(other_grid.id)]},
    )
    assert edited.status_code == 200, edited.get_json()
    body = edited.get_json()
    assert body["version"] == 2 and body["name"] == "赵网格（改）" and body["phone"] == "13900000009"
    assert [g["id"] for g in body["grids"]] == [str(other_grid.id)]
    assert edited.headers["ETag"] == client.get(path, headers=desk).headers["ETag"] != tag
    workers = client.get(f"/api/v1/grids/{other_grid.id}/workers", headers=desk).get_json()
    assert [w["worker"]["id"] for w in workers["workers"]] == [str(worker.id)]
    assert workers["version"] == version_before + 1
    old = client.get(f"/api/v1/grids/{demo.grid_of['gridworker1']}/workers", headers=desk).get_json()
    assert old["workers"] == [] and old["history"][0]["ended_at"]
    stale = client.patch(path, headers=desk, json={"version": 1, "name": "又改"})
    assert stale.status_code == 409 and stale.get_json()["current"]["version"] == 2
    stale_tag = client.patch(path, headers={**desk, "If-Match": tag}, json={"version": 2, "name": "又改"})
    assert stale_tag.status_code == 412
    [entry] = _audits(session, worker.id, "update")
    assert entry.summary["before"]["name"] == "赵网格" and entry.summary["after"]["name"] == "赵网格（改）"
    assert entry.summary["grids_added"] == [str(other_grid.id)]
    # No longer a grid worker: off every grid.
    inspector = client.patch(
        path, headers=desk, json={"version": 2, "roles": ["inspector"], "enforcement_cert_no": "50029920260777"}
    )
    assert inspector.status_code == 200 and inspector.get_json()["grids"] == []


def test_a_deactivated_person_cannot_log_in_and_their_tokens_die(client, login, demo, session):
    desk = login("desk")
    worker = demo.users["gridworker1"]
    token = login("gridworker1")
    assert client.get("/api/v1/grids", headers=token).status_code == 200
    stopped = client.delete(f"/api/v1/users/{worker.id}", headers=desk)
    assert stopped.status_code == 200, stopped.get_json()
    body = stopped.get_json()
    assert body["active"] is False and body["deactivated_at"].endswith("+08:00") and body["grids"] == []
    dead = client.get("/api/v1/grids", headers=token)
    assert dead.status_code == 401 and dead.get_json()["code"] == "auth.invalid_token"
    refused = _login(client, "gridworker1", "anxun-demo")
    assert refused.status_code == 401 and refused.get_json()["code"] == "auth.invalid_credentials"
    again = client.delete(f"/api/v1/users/{worker.id}", headers=desk)
    assert again.status_code == 409 and again.get_json()["code"] == "users.deactivated"
    assert client.post(f"/api/v1/users/{worker.id}/password-reset", headers=desk).status_code == 409
    assert [e.summary["tokens_revoked"] for e in _audits(session, worker.id, "deactivate")] == [1]
    # Still named on the records and in the directory (kept for history), listed as inactive.
    inactive = client.get("/api/v1/users?active=false", headers=desk).get_json()["items"]
    assert [u["username"] for u in inactive] == ["gridworker1"]
    # Brought back: the same password works; the grid is assigned anew.
    back = client.post(f"/api/v1/users/{worker.id}/reactivate", headers=desk)
    assert back.status_code == 200 and back.get_json()["active"] is True
    assert _login(client, "gridworker1", "anxun-demo").status_code == 200
    assert _audits(session, worker.id, "reactivate")


def test_no_one_deactivates_themselves(client, login, demo):
    desk = login("desk")
    answer = client.delete(f"/api/v1/users/{demo.users['desk'].id}", headers=desk)
    assert answer.status_code == 409 and answer.get_json()["code"] == "users.self"


def test_a_password_reset_ends_the_old_password_and_every_token(client, login, demo, session, first_login):
    desk = login("desk")
    worker = demo.users["gridworker2"]
    token = login("gridworker2")
    reset = client.post(f"/api/v1/users/{worker.id}/password-reset", headers=desk)
    assert reset.status_code == 200
    temporary = reset.get_json()["temporary_password"]
    assert reset.get_json()["must_change_password"] is True
    assert client.get("/api/v1/grids", headers=token).status_code == 401
    assert _login(client, "gridworker2", "anxun-demo").status_code == 401
    headers = first_login("gridworker2", temporary)
    assert client.get("/api/v1/grids", headers=headers).status_code == 200
    [entry] = _audits(session, worker.id, "reset_password")
    assert entry.summary == {"tokens_revoked": 1} and temporary not in str(entry.summary)


def test_a_persons_devices_are_listed_and_one_is_stopped(client, login, demo, session):
    desk = login("desk")
    worker = demo.users["gridworker1"]
    lost = login("gridworker1", device_id="lost-phone")
    kept = login("gridworker1", device_id="new-phone")
    listed = client.get(f"/api/v1/users/{worker.id}/devices", headers=desk)
    assert listed.status_code == 200
    devices = {d["id"]: d for d in listed.get_json()["devices"]}
    assert set(devices) == {"lost-phone", "new-phone"}
    assert devices["lost-phone"]["live_tokens"] == 1 and devices["lost-phone"]["revoked_at"] is None
    stopped = client.delete(f"/api/v1/users/{worker.id}/devices/lost-phone", headers=desk)
    assert stopped.status_code == 200 and stopped.get_json()["revoked_at"]
    dead = client.get("/api/v1/grids", headers=lost)
    assert dead.status_code == 401 and dead.get_json()["code"] == "auth.device_revoked"
    assert client.get("/api/v1/grids", headers=kept).status_code == 200
    after = {d["id"]: d for d in client.get(f"/api/v1/users/{worker.id}/devices", headers=desk).get_json()["devices"]}
    assert after["lost-phone"]["live_tokens"] == 0 and after["lost-phone"]["revoked_at"]
    # A device the person never used, or no device at all: 404.
    login("gridworker2", device_id="someone-elses")
    assert client.delete(f"/api/v1/users/{worker.id}/devices/someone-elses", headers=desk).status_code == 404
    assert client.delete(f"/api/v1/users/{worker.id}/devices/nothing", headers=desk).status_code == 404
    assert session.scalar(
        select(AuditEntry).where(AuditEntry.entity == "device", AuditEntry.entity_id == "lost-phone")
    ).summary == {"user": str(worker.id)}
