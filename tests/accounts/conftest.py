"""Fixtures of people administration: a desk officer of one town, and helpers to log in with a
temporary password and choose a real one."""

import uuid

import pytest
from sqlalchemy import select

NEW_PASSWORD = "Anxun-2026-new"


@pytest.fixture
def town_desk(session, demo):
    """``town_desk(town)`` -> username of a desk officer (内勤) of that demo town, password ``anxun-demo``."""
    from accounts.service import create_user

    def make(town) -> str:
        username = f"desk-{town.code}"
        create_user(
            session,
            username=username,
            name=f"{town.name}内勤",
            password="anxun-demo",
            roles=["desk_officer"],
            region_id=town.id,
        )
        return username

    return make


@pytest.fixture
def first_login(client):
    """``first_login(username, temporary)`` -> Authorization headers after choosing NEW_PASSWORD."""

    def do(username: str, temporary: str, device_id: str | None = None) -> dict:
        answer = client.post(
            "/api/v1/auth/login",
            json={
                "username": username,
                "password": temporary,
                "device": {"id": device_id or f"first-{uuid.uuid4().hex[:8]}"},
            },
        )
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["must_change_password"] is True
        headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
        changed = client.post(
            "/api/v1/auth/password", headers=headers, json={"current_password": temporary, "new_password": NEW_PASSWORD}
        )
        assert changed.status_code == 204, changed.get_json()
        return headers

    return do


@pytest.fixture
def user_named(session):
    from accounts.models import User

    def get(username: str) -> User:
        session.expire_all()
        return session.scalar(select(User).where(User.username == username))

    return get
