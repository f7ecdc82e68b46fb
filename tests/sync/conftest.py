"""Sync tests run on their own committed copy of the demo database (``committed_app``): pushes
commit for real, pulls read what other transactions committed."""

import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.principal import principal_for
from geo.models import Region


class Phone:
    """A field client in the tests: logs in with a device id, pushes batches, follows the pull cursor."""

    def __init__(self, client, username, device=None):
        self.client = client
        self.device = device or f"{username}-{uuid.uuid4().hex[:6]}"
        response = client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": "anxun-demo", "device": {"id": self.device, "platform": "android"}},
        )
        assert response.status_code == 200, response.get_json()
        self.user = response.get_json()["user"]
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
        self.cursor = None
        self.records: dict[tuple[str, str], dict] = {}

    def push(self, changes, batch_id=None, sent_at="2026-11-22T09:00:00+08:00", **kwargs):
        body = {"batch_id": batch_id or str(uuid.uuid4()), "sent_at": sent_at, "changes": changes}
        return self.client.post("/api/v1/sync/push", headers=self.headers, json=body, **kwargs)

    def pull_page(self, limit=500) -> dict:
        """One page of the feed, applied to the local copy; returns the answer."""
        url = "/api/v1/sync/pull" + (f"?cursor={self.cursor}&limit={limit}" if self.cursor else f"?limit={limit}")
        answer = self.client.get(url, headers=self.headers).get_json()
        if answer["reset"]:
            self.records.clear()
        for change in answer["changes"]:
            key = (change["entity"], change["id"])
            if change["op"] == "delete":
                self.records.pop(key, None)
            else:
                self.records[key] = change["data"]
        self.cursor = answer["cursor"]
        return answer

    def pull_all(self, limit=500):
        """Follow the cursor to the end; returns every change received, in order."""
        received = []
        while True:
            answer = self.pull_page(limit)
            received += answer["changes"]
            if not answer["has_more"]:
                return received

    def ids(self, entity):
        return {i for e, i in self.records if e == entity}


@pytest.fixture
def server(committed_app):
    app, clock, url = committed_app
    return app.test_client(), clock, url


@pytest.fixture
def phone(server):
    client = server[0]
    return lambda username, device=None: Phone(client, username, device)


@pytest.fixture
def db_session(committed_app):
    """A session on the committed database, for set-up and checks (commit what you write)."""
    engine = create_engine(committed_app[2])
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def world(db_session):
    from accounts.models import User
    from geo.models import GridAssignment

    users = {u.username: u for u in db_session.scalars(select(User))}
    grid_of = dict(
        db_session.execute(
            select(GridAssignment.user_id, GridAssignment.grid_id).where(GridAssignment.ended_at.is_(None))
        ).all()
    )
    retailer = users["enterprise1"].enterprise_id
    return {"users": users, "grid_of": {n: grid_of.get(u.id) for n, u in users.items()}, "retailer": retailer}


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def wait_until_blocked(session, what: str, timeout: float = 20.0) -> None:
    """Until some other backend of this database waits on a lock (our uncommitted row)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The activity view is cached for the transaction once read (a pull reads it): read it afresh.
        session.execute(text("SELECT pg_stat_clear_snapshot()"))
        waiting = session.execute(
            text("""
            SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()""")
        ).scalar()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} never waited on the open transaction")


def run_while_held(open_session, request, what: str = "the second writer"):
    """Run ``request`` while ``open_session`` holds its uncommitted write (or lock), commit once the
    request is seen waiting on it, and return what the request answered."""
    outcome = {}

    def run():
        try:
            outcome["value"] = request()
        except Exception as err:  # surfaced by the test, not lost in the thread
            outcome["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    wait_until_blocked(open_session, what)
    open_session.commit()
    thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    return outcome["value"]


def principal_of_user(session, username, device):
    user = session.scalar(select(User).where(User.username == username))
    region = session.get(Region, user.region_id)
    return principal_for(user, region.code, region.path, device)
