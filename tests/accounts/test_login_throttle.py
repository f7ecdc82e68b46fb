"""Login throttling as it meets the world: many guesses at once, a county office behind one proxy,
and a user who mistypes, then gets it right."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from api.app import create_app


def _login(client, username, password="anxun-demo", address="10.0.0.1", forwarded_for=None, device="phone-1"):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/api/v1/auth/login",
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
        json={"username": username, "password": password, "device": {"id": device}},
    )


def test_concurrent_wrong_passwords_get_no_more_password_checks_than_the_limit(committed_app):
    """16 guesses at once, on real connections and commits: exactly the allowed 5 are checked (401),
    the rest are refused unchecked (429)."""
    app, _, _ = committed_app
    limit = app.extensions["anxun"].settings.login_max_failures_per_user
    start = threading.Barrier(16)
    answers: list[int] = []

    def guess(n: int) -> None:
        client = app.test_client()
        start.wait()
        answers.append(_login(client, "gridworker2", password=f"guess-{n}", address=f"10.1.0.{n}").status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(answers) == {401: limit, 429: 16 - limit}


def test_a_successful_login_clears_the_users_failures(client):
    for _ in range(4):
        assert _login(client, "gridworker2", password="typo").status_code == 401
    assert _login(client, "gridworker2").status_code == 200
    for _ in range(4):
        assert _login(client, "gridworker2", password="typo").status_code == 401
    assert _login(client, "gridworker2").status_code == 200


@pytest.fixture
def proxied_client(settings, session_factory, clock):
    """The app behind one trusted reverse proxy (the documented nginx), as ANXUN_TRUSTED_PROXIES=1 sets it."""
    app = create_app(settings.replace(trusted_proxies=1), session_factory=session_factory, clock=clock)
    return app.test_client()


def test_behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own(proxied_client):
    proxy = "10.0.0.2"
    for i in range(30):
        assert (
            _login(
                proxied_client, f"spray-{i}", password="bad", address=proxy, forwarded_for="198.51.100.9"
            ).status_code
            == 401
        )
    assert _login(proxied_client, "gridworker1", address=proxy, forwarded_for="198.51.100.9").status_code == 429
    # The colleague at the next desk, behind the same proxy, still logs in.
    assert _login(proxied_client, "gridworker1", address=proxy, forwarded_for="198.51.100.10").status_code == 200
    # Only the proxy's own entry counts: what the client put in front of it is not believed.
    assert (
        _login(proxied_client, "gridworker1", address=proxy, forwarded_for="203.0.113.1, 198.51.100.9").status_code
        == 429
    )


def test_without_trusted_proxies_a_forwarded_for_header_is_not_believed(client):
    for i in range(30):
        _login(client, f"spray-{i}", password="bad", address="203.0.113.7", forwarded_for=f"198.51.100.{i}")
    assert _login(client, "gridworker1", address="203.0.113.7", forwarded_for="198.51.100.200").status_code == 429
