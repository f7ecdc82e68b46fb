"""Login, throttling, tokens bound to devices, logout and device revocation (SYNC_PROTOCOL.md §1)."""

from sqlalchemy import func, select

from audit.models import AuditEntry


def _login(client, username, password="anxun-demo", device="phone-1", address="10.0.0.1"):
    return client.post(
        "/api/v1/auth/login",
        environ_base={"REMOTE_ADDR": address},
        json={
            "username": username,
            "password": password,
            "device": {"id": device, "name": "红米", "platform": "android", "app_version": "1.2.0"},
        },
    )


def test_login_returns_token_user_and_device(client):
    response = _login(client, "gridworker1")
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 40
    assert body["device_id"] == "phone-1"
    assert body["user"]["roles"] == ["grid_worker"]
    assert body["user"]["region_code"] == "500299100201"
    assert body["expires_at"].endswith("+08:00")


def test_token_authorises_calls_and_is_bound_to_its_device(client, session):
    token = _login(client, "desk").get_json()["token"]
    assert client.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "login")) >= 1


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    wrong = _login(client, "gridworker1", password="nope")
    unknown = _login(client, "nobody-at-all", password="nope")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["code"] == "auth.invalid_credentials"


def test_missing_malformed_and_unknown_tokens_are_401(client):
    assert client.get("/api/v1/enterprises").get_json()["code"] == "auth.invalid_token"
    for header in ("Bearer", "Basic abc", "Bearer not-a-real-token"):
        response = client.get("/api/v1/enterprises", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.get_json()["code"] == "auth.invalid_token"


def test_failed_logins_are_throttled_per_username(client):
    for _ in range(5):
        assert _login(client, "gridworker2", password="bad").status_code == 401
    # Even the right password is refused while throttled: guessing gains nothing.
    response = _login(client, "gridworker2")
    assert response.status_code == 429
    assert response.get_json()["code"] == "auth.throttled"
    assert int(response.headers["Retry-After"]) > 0
    # Another user from another address is not affected.
    assert _login(client, "gridworker1", address="10.9.9.9").status_code == 200


def test_throttle_lifts_after_the_window(client, clock):
    for _ in range(5):
        _login(client, "gridworker2", password="bad")
    assert _login(client, "gridworker2").status_code == 429
    clock.advance(minutes=16)
    assert _login(client, "gridworker2").status_code == 200


def test_failed_logins_are_throttled_per_address(client):
    for i in range(30):
        _login(client, f"spray-{i}", password="bad", address="203.0.113.7")
    response = _login(client, "gridworker1", address="203.0.113.7")
    assert response.status_code == 429
    assert _login(client, "gridworker1", address="203.0.113.8").status_code == 200


def test_expired_token_is_refused(client, clock):
    token = _login(client, "gridworker1").get_json()["token"]
    clock.advance(days=31)
    response = client.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "auth.invalid_token"


def test_logout_revokes_only_that_token(client):
    first = _login(client, "gridworker1", device="phone-a").get_json()["token"]
    second = _login(client, "gridworker1", device="phone-b").get_json()["token"]
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {first}"}).status_code == 204
    assert client.get("/api/v1/grids", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/api/v1/grids", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_desk_officer_revokes_a_lost_phone(client, login):
    token = _login(client, "gridworker1", device="lost-phone").get_json()["token"]
    other = _login(client, "gridworker2", device="kept-phone").get_json()["token"]
    response = client.delete("/api/v1/devices/lost-phone", headers=login("desk"))
    assert response.status_code == 200
    assert response.get_json()["revoked_at"]
    refused = client.get("/api/v1/grids", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "auth.device_revoked"
    assert client.get("/api/v1/grids", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    # The lost phone cannot simply log in again.
    again = _login(client, "gridworker1", device="lost-phone")
    assert again.status_code == 401 and again.get_json()["code"] == "auth.device_revoked"


def test_only_officers_revoke_and_only_within_their_area(client, login, session, demo):
    from accounts.service import create_user

    _login(client, "gridworker3", device="phone-town2")
    assert client.delete("/api/v1/devices/phone-town2", headers=login("gridworker1")).status_code == 403
    # A desk officer of town 1 cannot see (so cannot revoke) a device of town 2's grid worker.
    create_user(
        session,
        username="desk-town1",
        name="镇内勤",
        password="anxun-demo",
        roles=["desk_officer"],
        region_id=demo.towns[0].id,
    )
    assert client.delete("/api/v1/devices/phone-town2", headers=login("desk-town1")).status_code == 404
    assert client.delete("/api/v1/devices/no-such-device", headers=login("desk")).status_code == 404
