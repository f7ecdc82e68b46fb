"""The set-based push gives the answers of the per-change path: the same generated batches — applied,
duplicate, reused id, conflict, rejected with field errors, unknown reference, photos missing,
outside scope, hazard transitions and other kinds in between — pushed into two copies of the demo
database, one change by change (``push_set_based`` off), one set-based; the answers and the rows
written (inspections, hazards, events, patrols and visits, photo references, audit, change feed,
stored answers) must be identical, but for serial ids."""

from __future__ import annotations

import contextlib
import copy
import random
import uuid

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.orm import Session

from accounts.models import User
from checklists.service import list_latest, template_for_inspection
from core.clock import FixedClock
from enterprises.models import Enterprise
from geo.models import GridAssignment
from sync import push
from tests.answers import failing_answer, passing_answer
from tests.conftest import START, clone_database, drop_database

# Table -> columns that legitimately differ (serial ids, the feed's position and its database-clock time).
TABLES = {
    "inspections": [],
    "hazards": [],
    "hazard_events": ["id"],
    "patrols": [],
    "patrol_visits": ["id"],
    "photo_refs": [],
    "photos": [],
    "audit_log": ["id"],
    "change_log": ["seq", "txid", "at"],
    "sync_batches": [],
}

OPS = (
    "inspection",
    "inspection",
    "inspection",
    "patrol",
    "patrol",
    "bad_answers",
    "schema_error",
    "unknown_enterprise",
    "outside_scope",
    "repeat",
    "reuse",
    "transition",
    "unknown_hazard",
    "hazard",
    "hazard",
    "hazard_elsewhere",
    "hazard_unknown_enterprise",
    "hazard_by_place",
    "recheck",
    "supersedes",
    "patrol_bad_grid",
    "patrol_unknown_visit",
    "twice_in_batch",
)


class Side:
    """One copy of the demo database with its app, pushing as each phone."""

    def __init__(self, server_url, template_url, photo_root, set_based: bool):
        from api.app import create_app
        from config.settings import Settings

        self.url = clone_database(server_url, template_url)
        settings = Settings.from_env(
            {}, database_url=self.url, testing=True, photo_root=str(photo_root), push_set_based=set_based
        )
        self.app = create_app(settings, clock=FixedClock(START))
        self.client = self.app.test_client()
        self.headers = {}
        for username in ("gridworker1", "inspector1"):
            reply = self.client.post(
                "/api/v1/auth/login",
                json={
                    "username": username,
                    "password": "anxun-demo",
                    "device": {"id": f"eq-{username}", "platform": "android"},
                },
            )
            assert reply.status_code == 200, reply.get_json()
            self.headers[username] = {"Authorization": f"Bearer {reply.get_json()['token']}"}
        # Photos the server holds: one gridworker1 uploaded (named by them, a vouched reference), one
        # inspector2 did (held, but not gridworker1's to vouch for).
        with self.app.extensions["anxun"].engine.begin() as conn:
            for sha, username in HELD.items():
                conn.execute(
                    text("""
                    INSERT INTO photos (sha256, mime, size_bytes, width, height, orientation, uploaded_by, uploaded_at,
                                        thumb_stored)
                    SELECT :sha, 'image/jpeg', 1000, 10, 10, 1, id, :at, true FROM users WHERE username = :username"""),
                    {"sha": sha, "username": username, "at": START},
                )

    def __repr__(self):
        return f"Side({self.url.rsplit('/', 1)[-1]})"

    def push(self, username: str, body: dict) -> dict:
        reply = self.client.post("/api/v1/sync/push", headers=self.headers[username], json=body)
        assert reply.status_code == 200, reply.get_json()
        return reply.get_json()

    def rows(self) -> dict:
        engine = self.app.extensions["anxun"].engine
        out = {}
        with engine.connect() as conn:
            for table, ignored in TABLES.items():
                drop = "".join(f" - '{c}'" for c in ignored)
                out[table] = conn.execute(
                    text(
                        f"SELECT coalesce(jsonb_agg(x ORDER BY x::text), '[]') FROM (SELECT to_jsonb(t){drop} AS x FROM {table} t) s"
                    )
                ).scalar()
        return out

    def close(self, server_url):
        self.app.extensions["anxun"].dispose()
        drop_database(server_url, self.url)


@pytest.fixture(scope="module")
def sides(server_url, template_url, tmp_path_factory):
    one = Side(server_url, template_url, tmp_path_factory.mktemp("photos-a"), set_based=False)
    other = Side(server_url, template_url, tmp_path_factory.mktemp("photos-b"), set_based=True)
    try:
        yield one, other
    finally:
        one.close(server_url)
        other.close(server_url)


@pytest.fixture(scope="module")
def demo_world(sides):
    """What the generated changes name: the workers' grid and its enterprises, one enterprise elsewhere,
    the checklist of each, the people."""
    engine = create_engine(sides[0].url)
    with Session(engine) as session:
        users = {u.username: u.id for u in session.scalars(select(User))}
        grid = session.scalar(
            select(GridAssignment.grid_id).where(
                GridAssignment.user_id == users["gridworker1"], GridAssignment.ended_at.is_(None)
            )
        )
        other_grid = session.scalar(
            select(GridAssignment.grid_id).where(
                GridAssignment.user_id == users["gridworker3"], GridAssignment.ended_at.is_(None)
            )
        )

        def described(enterprises):
            out = []
            for e in enterprises:
                latest = list_latest(session, industry=e.industry, subtype=e.subtype)
                if not latest:
                    continue
                template = template_for_inspection(session, latest[0]["code"], latest[0]["version"])
                items = [i for i in template.items if i.applies_to(e.subtype)]
                from geoalchemy2.shape import to_shape

                point = to_shape(e.location) if e.location is not None else None
                out.append(
                    {
                        "id": str(e.id),
                        "template": template,
                        "items": items,
                        "lon": point.x if point else None,
                        "lat": point.y if point else None,
                    }
                )
            return out

        mine = described(
            session.scalars(select(Enterprise).where(Enterprise.grid_id == grid).order_by(Enterprise.uscc).limit(6))
        )
        elsewhere = described(
            session.scalars(
                select(Enterprise).where(Enterprise.grid_id == other_grid).order_by(Enterprise.uscc).limit(1)
            )
        )
    engine.dispose()
    assert mine and elsewhere
    return {"users": users, "grid": str(grid), "other_grid": str(other_grid), "mine": mine, "elsewhere": elsewhere}


STAMP = "2026-11-22T08:{:02d}:00+08:00"


HELD = {"1" * 64: "gridworker1", "2" * 64: "inspector2"}


def _sha(rng: random.Random) -> str:
    """A photo: now and then one the server holds, else one it does not (missing)."""
    if rng.random() < 0.3:
        return rng.choice(sorted(HELD))
    return "%064x" % rng.getrandbits(256)


class Generator:
    """Builds changes from (op, seed); remembers what earlier changes made, so later ones can name them."""

    def __init__(self, world):
        self.world = world
        self.sent: list[dict] = []
        self.inspections: list[tuple[dict, dict, list[str]]] = []  # (change, enterprise, failed items)

    def inspection(self, rng, username, enterprise=None, kind=None) -> dict:
        enterprise = enterprise or rng.choice(self.world["mine"])
        items = enterprise["items"]
        failing = set(i.code for i in rng.sample(items, min(len(items), rng.choice((0, 0, 1, 2)))))
        answers = [failing_answer(i, _sha(rng)) if i.code in failing else passing_answer(i) for i in items]
        users = self.world["users"]
        if kind is None:
            kind = "patrol_check" if username == "gridworker1" else "routine"
        inspectors = [users["gridworker1"]] if username == "gridworker1" else [users["inspector1"], users["inspector2"]]
        location = None
        if enterprise["lon"] is not None and rng.random() < 0.7:
            far = rng.random() < 0.3
            location = {
                "lon": round(enterprise["lon"] + (0.01 if far else 0.0001), 7),
                "lat": round(enterprise["lat"], 7),
                "crs": rng.choice(("wgs84", "gcj02")),
                "accuracy_m": 10,
            }
        change = {
            "entity": "inspection",
            "op": "create",
            "id": str(uuid.uuid4()),
            "recorded_at": STAMP.format(40),
            "data": {
                "enterprise_id": enterprise["id"],
                "kind": kind,
                "plan_id": None,
                "checklist": {"code": enterprise["template"].code, "version": enterprise["template"].version},
                "inspectors": [str(i) for i in inspectors],
                "started_at": STAMP.format(rng.randrange(0, 30)),
                "finished_at": STAMP.format(40),
                "location": location,
                "answers": answers,
                "photos": [_sha(rng) for _ in range(rng.randrange(0, 3))],
                "remarks": rng.choice(("", "企业负责人在场")),
                "supersedes": None,
            },
        }
        self.inspections.append((change, enterprise, sorted(failing)))
        return change

    def patrol(self, rng, grid=None, visited=None) -> dict:
        enterprises = rng.sample(self.world["mine"], min(len(self.world["mine"]), rng.randrange(1, 4)))
        visits = [
            {
                "enterprise_id": visited or e["id"],
                "at": STAMP.format(10 + n),
                "location": (
                    {"lon": e["lon"], "lat": e["lat"], "crs": "wgs84", "accuracy_m": 10}
                    if e["lon"] is not None and rng.random() < 0.7
                    else None
                ),
                "outcome": rng.choice(("normal", "hazard_found")),
                "note": "",
                "photos": [_sha(rng)] if rng.random() < 0.4 else [],
            }
            for n, e in enumerate(enterprises)
        ]
        return {
            "entity": "patrol",
            "op": "create",
            "id": str(uuid.uuid4()),
            "recorded_at": STAMP.format(50),
            "data": {
                "grid_id": grid or self.world["grid"],
                "started_at": STAMP.format(0),
                "ended_at": STAMP.format(50),
                "track": {
                    "crs": "gcj02",
                    "coordinates": [[107.8, 30.7], [107.801, 30.701]],
                    "times": [STAMP.format(0), STAMP.format(5)],
                }
                if rng.random() < 0.5
                else None,
                "visits": visits,
                "notes": "",
            },
        }

    def hazard(self, rng, enterprise_id, location=None) -> dict:
        return {
            "entity": "hazard",
            "op": "create",
            "id": str(uuid.uuid4()),
            "recorded_at": STAMP.format(20),
            "data": {
                "enterprise_id": enterprise_id,
                "level": rng.choice(("general", "general", "major")),
                "description": "门口堆放杂物",
                "location": location,
                "photos": [_sha(rng) for _ in range(rng.randrange(0, 3))],
                "found_at": STAMP.format(20),
            },
        }

    def derived_hazard(self, rng):
        failed = [(c, item) for c, _, items in self.inspections for item in items]
        if not failed:
            return None
        change, item = rng.choice(failed)
        return uuid.uuid5(uuid.UUID(change["id"]), item)

    def build(self, op: str, seed: int, username: str) -> list[dict]:
        rng = random.Random(seed)
        world = self.world
        if op == "inspection":
            made = [self.inspection(rng, username)]
        elif op == "patrol":
            made = [self.patrol(rng)]
        elif op == "bad_answers":
            change = self.inspection(rng, username)
            change["data"]["answers"][0]["item"] = "no-such-item"
            made = [change]
        elif op == "schema_error":
            change = self.inspection(rng, username)
            change["data"]["kind"] = "bogus"
            made = [change]
        elif op == "unknown_enterprise":
            change = self.inspection(rng, username)
            change["data"]["enterprise_id"] = str(uuid.uuid4())
            made = [change]
        elif op == "outside_scope":
            made = [self.inspection(rng, username, enterprise=world["elsewhere"][0])]
        elif op == "repeat" and self.sent:
            made = [copy.deepcopy(rng.choice(self.sent))]
        elif op == "reuse" and self.sent:
            change = copy.deepcopy(rng.choice(self.sent))
            if change["entity"] == "inspection":
                change["data"]["remarks"] = "改过的内容"
            elif change["entity"] == "patrol":
                change["data"]["notes"] = "改过的内容"
            elif change["op"] == "create":
                change["data"]["description"] = "改过的内容"
            made = [change]
        elif op == "transition":
            hazard = self.derived_hazard(rng) or uuid.uuid4()
            if username == "inspector1":
                data = {
                    "action": "order",
                    "deadline": "2026-12-01T00:00:00+08:00",
                    "responsible_person": "店主",
                    "measures": "清理",
                    "five": {
                        "responsibility": "店主",
                        "measures": "清理",
                        "funds": "100元",
                        "deadline": "2026-12-01T00:00:00+08:00",
                        "contingency_plan": "有",
                    },
                }
                base = 1
            else:
                data = {"action": "submit", "photos": [_sha(rng)], "note": "已整改"}
                base = 2
            made = [
                {
                    "entity": "hazard",
                    "op": "transition",
                    "id": str(hazard),
                    "base_version": base,
                    "recorded_at": STAMP.format(55),
                    "data": data,
                }
            ]
        elif op == "unknown_hazard":
            made = [
                {
                    "entity": "hazard",
                    "op": "transition",
                    "id": str(uuid.uuid4()),
                    "base_version": 1,
                    "recorded_at": STAMP.format(55),
                    "data": {"action": "submit", "photos": [_sha(rng)], "note": "x"},
                }
            ]
        elif op == "hazard":
            made = [self.hazard(rng, rng.choice(world["mine"])["id"])]
        elif op == "hazard_elsewhere":  # beyond a grid worker's grid; an inspector's region holds it
            made = [self.hazard(rng, world["elsewhere"][0]["id"])]
        elif op == "hazard_unknown_enterprise":
            made = [self.hazard(rng, str(uuid.uuid4()))]
        elif op == "hazard_by_place":  # no enterprise: placed by its location, one by one
            mine = rng.choice(world["mine"])
            made = [self.hazard(rng, None, location={"lon": mine["lon"], "lat": mine["lat"], "crs": "wgs84"})]
        elif op == "recheck" and self.inspections:
            _, enterprise, _ = rng.choice(self.inspections)
            made = [self.inspection(rng, username, enterprise=enterprise, kind="recheck")]
        elif op == "supersedes" and self.inspections:
            earlier, enterprise, _ = rng.choice(self.inspections)
            change = self.inspection(rng, username, enterprise=enterprise)
            change["data"]["supersedes"] = earlier["id"]
            made = [change]
        elif op == "patrol_bad_grid":
            made = [self.patrol(rng, grid=world["other_grid"])]
        elif op == "patrol_unknown_visit":
            made = [self.patrol(rng, visited=str(uuid.uuid4()))]
        elif op == "twice_in_batch":
            change = rng.choice(
                (
                    lambda: self.inspection(rng, username),
                    lambda: self.patrol(rng),
                    lambda: self.hazard(rng, rng.choice(world["mine"])["id"]),
                )
            )()
            made = [change, copy.deepcopy(change)]
        else:
            made = [self.inspection(rng, username)]
        self.sent += made
        return made


batches = st.lists(
    st.tuples(
        st.sampled_from(("gridworker1", "inspector1")),
        st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 2**32)), min_size=1, max_size=12),
    ),
    min_size=1,
    max_size=3,
)


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(batches=batches, store_at_once=st.sampled_from((1, 3, push.STORE_AT_ONCE)))
def test_set_based_push_answers_and_stores_exactly_as_change_by_change(sides, demo_world, batches, store_at_once):
    one_by_one, set_based = sides
    generator = Generator(demo_world)
    with _storing_at_once(store_at_once):
        _push_both(sides, generator, batches)
    expected_rows, got_rows = one_by_one.rows(), set_based.rows()
    for table in TABLES:
        assert got_rows[table] == expected_rows[table], table


@contextlib.contextmanager
def _storing_at_once(n: int):
    """Runs stored in groups of ``n`` (the chunking of a long run, exercised by short batches)."""
    before = push.STORE_AT_ONCE
    push.STORE_AT_ONCE = n
    try:
        yield
    finally:
        push.STORE_AT_ONCE = before


def _push_both(sides, generator, batches):
    one_by_one, set_based = sides
    for username, ops in batches:
        changes = [c for op, seed in ops for c in generator.build(op, seed, username)]
        body = {"batch_id": str(uuid.uuid4()), "sent_at": "2026-11-22T09:00:00+08:00", "changes": changes}
        expected = one_by_one.push(username, body)
        got = set_based.push(username, body)
        assert got == expected


def _pushed_counting_statements(sides, username: str, body: dict) -> list[tuple[dict, int]]:
    """Each side's answer to ``body`` and the statements it sent for it."""
    counted = []
    for side in sides:
        statements = [0]
        engine = side.app.extensions["anxun"].engine
        count = lambda *args, statements=statements: statements.__setitem__(0, statements[0] + 1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", count)
        try:
            answer = side.push(username, body)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counted.append((answer, statements[0]))
    return counted


def test_hazards_reported_at_enterprises_are_stored_together(sides, demo_world):
    """随手拍 reports naming an enterprise take the set path: the same answers, a fraction of the statements."""
    generator = Generator(demo_world)
    changes = [c for n in range(20) for c in generator.build("hazard", 1000 + n, "gridworker1")]
    body = {"batch_id": str(uuid.uuid4()), "sent_at": "2026-11-22T09:00:00+08:00", "changes": changes}
    (expected, one_by_one), (got, set_based) = _pushed_counting_statements(sides, "gridworker1", body)
    assert got == expected
    assert {r["status"] for r in got["results"]} == {"applied"}
    assert set_based * 4 < one_by_one


def test_the_generated_batches_reach_every_kind_of_answer(sides, demo_world):
    """The menu above is not idle: one batch of each op gives applied, duplicate, conflict, rejected
    (reused id, field errors, out of scope) and retryable unknown references, with photos missing."""
    generator = Generator(demo_world)
    ops = [op for op in OPS] + ["transition", "repeat", "reuse"]
    changes = [c for n, op in enumerate(ops) for c in generator.build(op, n, "gridworker1")]
    reused = copy.deepcopy(changes[0])  # the first op's inspection, applied: its id with other content
    reused["data"]["remarks"] = "改过的内容"
    changes.append(reused)
    body = {"batch_id": str(uuid.uuid4()), "sent_at": "2026-11-22T09:00:00+08:00", "changes": changes}
    # the statements each side sends for the batch: the set-based side must send fewer
    (expected, one_by_one), (got, set_based) = _pushed_counting_statements(sides, "gridworker1", body)
    assert got == expected
    assert set_based < one_by_one
    statuses = {r["status"] for r in expected["results"]}
    codes = {r.get("code") for r in expected["results"]}
    assert {"applied", "duplicate", "rejected"} <= statuses
    assert {"sync.id_reused", "validation", "sync.unknown_reference", "scope.not_visible"} <= codes | {
        e["code"] for r in expected["results"] for e in r.get("errors", [])
    }
    assert expected["missing_photos"]
    with sides[1].app.extensions["anxun"].engine.connect() as conn:  # held photos named, vouched and not
        assert set(
            conn.execute(
                text("SELECT DISTINCT vouched FROM photo_refs WHERE sha256 = ANY(:held)"), {"held": sorted(HELD)}
            ).scalars()
        ) == {True, False}
