"""Numbers without gaps under concurrent issuers (real connections, committed), a number given back
when its issue is rolled back, and a worker's memory flat over many renders."""

import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text

from core.clock import FixedClock
from documents.models import Document
from documents.service import Issuer, issue_document
from tests.conftest import START

ISSUERS = 8


def _serial(number: str) -> int:
    return int(re.search(r"〕(\d+)号", number).group(1))


def test_eight_concurrent_issuers_get_eight_consecutive_numbers(committed_app, inspection_body, first_items):
    app, _, url = committed_app
    client = app.test_client()

    def login(username):
        response = client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": "anxun-demo", "device": {"id": f"t-{uuid.uuid4().hex[:8]}"}},
        )
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    body = inspection_body(fail=list(first_items))
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=body).status_code == 201
    headers = [login("inspector1" if n % 2 else "desk") for n in range(ISSUERS)]
    barrier, results = threading.Barrier(ISSUERS), [None] * ISSUERS

    def issue(n):
        own = app.test_client()
        barrier.wait()
        results[n] = own.post(
            f"/api/v1/inspections/{body['id']}/documents", headers=headers[n], json={"kind": "site_inspection_record"}
        )

    threads = [threading.Thread(target=issue, args=(n,)) for n in range(ISSUERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [201] * ISSUERS, [r.get_json() for r in results]
    assert sorted(_serial(r.get_json()["number"]) for r in results) == list(range(1, ISSUERS + 1))
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT serial, number FROM documents ORDER BY serial")).all()
        assert [s for s, _ in stored] == list(range(1, ISSUERS + 1))
        assert len({n for _, n in stored}) == ISSUERS
    engine.dispose()


def _concurrently(count, work) -> list:
    barrier, results = threading.Barrier(count), [None] * count

    def run(n):
        barrier.wait()
        results[n] = work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_case_documents_issued_by_eight_concurrent_steps_are_numbered_without_gaps(committed_app):
    """立案 of 8 cases at once, then 告知 (with a hearing) of the 8 at once: each step issues its documents
    in its own transaction, and every kind's numbers are 1…8."""
    app, _, url = committed_app
    client = app.test_client()
    engine = create_engine(url)
    with engine.connect() as conn:
        officers = [
            str(conn.execute(text("SELECT id FROM users WHERE username = :u"), {"u": u}).scalar_one())
            for u in ("inspector1", "inspector2")
        ]
        enterprises = [
            str(e)
            for e in conn.execute(text("SELECT id FROM enterprises ORDER BY id LIMIT :n"), {"n": ISSUERS}).scalars()
        ]

    def login(username):
        response = client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": "anxun-demo", "device": {"id": f"t-{uuid.uuid4().hex[:8]}"}},
        )
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    headers = [login("inspector1" if n % 2 else "inspector2") for n in range(ISSUERS)]

    def file(n):
        return app.test_client().post(
            "/api/v1/cases",
            headers=headers[n],
            json={
                "procedure": "general",
                "enterprise_id": enterprises[n],
                "officers": officers,
                "facts": f"第 {n} 家企业未按规定开展隐患排查",
                "violated": "《中华人民共和国安全生产法》第四十一条第二款",
            },
        )

    opened = _concurrently(ISSUERS, file)
    assert [r.status_code for r in opened] == [201] * ISSUERS, [r.get_json() for r in opened]
    cases = [r.get_json() for r in opened]
    for n, case in enumerate(cases):
        step = client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            headers=headers[n],
            json={"action": "investigate", "base_version": case["version"]},
        )
        cases[n] = step.get_json()

    def notify(n):
        return app.test_client().post(
            f"/api/v1/cases/{cases[n]['id']}/transitions",
            headers=headers[n],
            json={
                "action": "notify",
                "base_version": cases[n]["version"],
                "hearing_offered": True,
                "penalty_basis": "《中华人民共和国安全生产法》第九十七条",
                "penalty": "罚款",
                "amount": 50000,
            },
        )

    notified = _concurrently(ISSUERS, notify)
    assert [r.status_code for r in notified] == [200] * ISSUERS, [r.get_json() for r in notified]
    with engine.connect() as conn:
        for kind in ("case_filing_approval", "penalty_notice", "hearing_notice"):
            serials = (
                conn.execute(text("SELECT serial FROM documents WHERE kind = :k ORDER BY serial"), {"k": kind})
                .scalars()
                .all()
            )
            assert serials == list(range(1, ISSUERS + 1)), (kind, serials)
        assert conn.execute(text("SELECT count(DISTINCT number) FROM documents")).scalar_one() == 3 * ISSUERS
    engine.dispose()


def test_a_rolled_back_issue_gives_its_number_back(session, demo, inspection_body, client, login, first_items):
    from accounts.principal import principal_for
    from geo.models import Region

    body = inspection_body(fail=list(first_items))
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=body).status_code == 201
    user = demo.users["inspector1"]
    region = session.get(Region, user.region_id)
    principal = principal_for(user, region.code, region.path, None)
    clock = FixedClock(START)

    def issue():
        return issue_document(
            session,
            clock,
            principal,
            "inspection",
            uuid.UUID(body["id"]),
            {"kind": "site_inspection_record"},
            issuer=Issuer("http://localhost:8000"),
        )

    savepoint = session.begin_nested()
    lost = issue().serial
    savepoint.rollback()
    kept = issue()
    assert kept.serial == lost
    assert session.scalars(select(Document.serial).where(Document.kind == "site_inspection_record")).all() == [lost]


def _peak_rss_kib(renders: int) -> int:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "bench.documents", "rss", str(renders)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def test_memory_stays_flat_over_many_renders():
    """A worker rendering 3N documents peaks no higher than one rendering N (before each render
    collected its cycles, 10 renders peaked at 586 MB and 30 at 872 MB)."""
    few, many = _peak_rss_kib(10), _peak_rss_kib(30)
    assert many < few * 1.10, (few, many)
