"""Tests run on a real PostgreSQL + PostGIS: a throwaway database created on the server named by
ANXUN_TEST_DATABASE_URL (``make test`` starts the private cluster and sets it), migrated once,
loaded with the demo district once; each test runs inside an outer transaction that is rolled back."""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FixedClock
from db.session import CONNECTION_OPTIONS

# 2026-11-22 09:00 in Shanghai: a Sunday morning in the demo's world.
START = datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc)


def _server_url() -> str:
    url = os.environ.get("ANXUN_TEST_DATABASE_URL")
    if not url:
        pytest.skip("ANXUN_TEST_DATABASE_URL is not set: run the tests with `make test`")
    return url


def create_database(server_url: str, prefix: str = "anxun_test", template: str | None = None) -> str:
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
def template_url(server_url):
    """A migrated database with the checklists and the demo district, never connected to again:
    the test database and every clone are copied from it (CREATE DATABASE … TEMPLATE)."""
    from checklists.service import publish_templates
    from db.migrate import upgrade
    from demo.data import load_demo

    url = create_database(server_url, prefix="anxun_tpl")
    try:
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session, session.begin():
            publish_templates(session, FixedClock(START))
            load_demo(session, FixedClock(START))
        engine.dispose()
        yield url
    finally:
        drop_database(server_url, url)


def clone_database(server_url: str, template: str) -> str:
    url = create_database(server_url, template=make_url(template).database)
    return url


@pytest.fixture(scope="session")
def database_url(server_url, template_url):
    url = clone_database(server_url, template_url)
    yield url
    drop_database(server_url, url)


@pytest.fixture
def committed_app(server_url, template_url, tmp_path):
    """For tests that need real commits and several connections (sync, concurrency): an app on its
    own fresh copy of the demo database, dropped afterwards. Returns (app, clock, url)."""
    from api.app import create_app
    from config.settings import Settings

    url = clone_database(server_url, template_url)
    clock = FixedClock(START)
    settings = Settings.from_env({}, database_url=url, testing=True, photo_root=str(tmp_path / "photos"))
    app = create_app(settings, clock=clock)
    try:
        yield app, clock, url
    finally:
        app.extensions["anxun"].dispose()
        drop_database(server_url, url)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = create_engine(database_url, connect_args={"options": CONNECTION_OPTIONS})
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session_factory(connection):
    # Commits inside the code under test only release savepoints of the outer transaction.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory):
    with session_factory() as s:
        yield s


@pytest.fixture
def clock():
    return FixedClock(START)


@pytest.fixture
def settings(database_url, tmp_path):
    from config.settings import Settings

    return Settings.from_env({}, database_url=database_url, testing=True, photo_root=str(tmp_path / "photos"))


@pytest.fixture
def app(settings, session_factory, clock):
    from api.app import create_app

    return create_app(settings, session_factory=session_factory, clock=clock)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """``login("gridworker1")`` -> Authorization headers for a fresh token of that demo account."""

    def do_login(username: str, password: str = "anxun-demo", device_id: str | None = None) -> dict:
        response = client.post(
            "/api/v1/auth/login",
            json={
                "username": username,
                "password": password,
                "device": {
                    "id": device_id or f"test-{username}-{uuid.uuid4().hex[:8]}",
                    "name": "pytest",
                    "platform": "android",
                    "app_version": "1.0.0",
                },
            },
        )
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return do_login


@pytest.fixture
def demo(session):
    """Names of the demo's records, looked up once per test."""
    from accounts.models import User
    from enterprises.models import Enterprise
    from geo.models import Grid, GridAssignment, Region

    users = {u.username: u for u in session.scalars(select(User))}
    grid_of = dict(
        session.execute(
            select(GridAssignment.user_id, GridAssignment.grid_id).where(GridAssignment.ended_at.is_(None))
        ).all()
    )

    class Demo:
        pass

    d = Demo()
    d.users = users
    d.towns = list(session.scalars(select(Region).where(Region.level == "town").order_by(Region.code)))
    d.villages = list(session.scalars(select(Region).where(Region.level == "village").order_by(Region.code)))
    d.grid_of = {name: grid_of.get(u.id) for name, u in users.items()}
    d.retailer = session.get(Enterprise, users["enterprise1"].enterprise_id)
    d.grids = list(session.scalars(select(Grid)))
    return d


@pytest.fixture
def make_enterprise(session):
    """Factory: an enterprise at (lon, lat), located into its village and grid."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point

    from enterprises.models import Enterprise
    from enterprises.uscc import make_uscc
    from enterprises.placement import place_enterprises

    counter = iter(range(1, 10_000))

    def make(lon: float, lat: float, **overrides) -> Enterprise:
        n = next(counter)
        values = dict(
            name=f"测试企业{n}",
            uscc=make_uscc(f"91500299TT{n:07d}"),
            industry="fireworks",
            subtype="retail",
            address="测试地址",
            risk="yellow",
            location=from_shape(Point(lon, lat), srid=4326),
        )
        values.update(overrides)
        enterprise = Enterprise(id=uuid.uuid4(), **values)
        session.add(enterprise)
        session.flush()
        place_enterprises(session, [enterprise.id])
        session.refresh(enterprise)
        return enterprise

    return make


@contextlib.contextmanager
def serving_demo_copy(
    server_url: str, template_url: str, workdir, *, workers: int, threads: int, env: dict | None = None
):
    """gunicorn as ``make run`` starts it (config/gunicorn.py, wsgi:app, default settings: photos under the
    relative ``var/photos``) on its own copy of the demo database, run from ``workdir``; the bench Server
    (``.base``, ``.port``, ``.database_url``, ``.workdir``, ``.worker_pids()``, ``.memory()``). ``env``
    adds to the server's environment (GUNICORN_CMD_ARGS, say)."""
    from bench.server import Server
    from bench.soak import free_port

    url = clone_database(server_url, template_url)
    server = Server(
        url,
        port=free_port(),
        workers=workers,
        threads=threads,
        photo_root=None,
        log_path=workdir / "gunicorn.log",
        cwd=workdir,
        env=env,
    )
    server.workdir = workdir
    try:
        server.start()
        yield server
    finally:
        server.stop()
        drop_database(server_url, url)


@pytest.fixture(scope="module")
def served(server_url, template_url, tmp_path_factory):
    """The API as ``make run`` serves it (``serving_demo_copy``, one worker of four threads)."""
    with serving_demo_copy(
        server_url, template_url, tmp_path_factory.mktemp("make-run"), workers=1, threads=4
    ) as server:
        yield server


@pytest.fixture
def principal_of(session):
    """``principal_of("gridworker1")`` -> that demo account's Principal, as its token stands for it."""
    from accounts.models import User
    from accounts.service import _principal

    def get(username: str):
        return _principal(session, session.scalar(select(User).where(User.username == username)), None)

    return get
