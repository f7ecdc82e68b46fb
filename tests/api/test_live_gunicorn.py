"""On gunicorn as ``make run`` starts it, with keep-alive connections and a cluster of the test's own.

A database restart costs no request an error: reads come from a pool that does not ping before each
checkout (db.session.make_read_engine), so the read that meets a dropped connection is run again on a
fresh one (api.app); writes keep their ping. Real gunicorn, real keep-alive connections, a cluster of
the test's own crashed with ``pg_ctl stop -m immediate`` and started again."""

import http.client
import io
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bench.server import Server
from bench.soak import Cluster, free_port, fresh_database

ROOT = Path(__file__).resolve().parents[2]
THREADS = 4


class Caller:
    """One keep-alive connection of one logged-in phone."""

    def __init__(self, port: int, username: str, device: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = {
            "username": username,
            "password": "anxun-demo",
            "device": {"id": device, "name": "测试机", "platform": "android", "app_version": "1"},
        }
        status, answer = self.call("POST", "/api/v1/auth/login", body)
        assert status == 200, answer
        self.token = answer["token"]

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        response = self.raw(method, path, body)
        return response.status, json.loads(response.read() or b"{}")

    def raw(self, method: str, path: str, body: dict | None = None) -> http.client.HTTPResponse:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        return self.connection.getresponse()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if shutil.which("pg_ctl") is None and not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.skip("no PostgreSQL server binaries here to run a cluster the test may crash")
    work = tmp_path_factory.mktemp("restart")
    cluster = Cluster(ROOT / "var" / "restart-test" / "pg")
    url = cluster.ensure()
    fresh_database(url)
    api = Server(
        url, port=free_port(), workers=1, threads=THREADS, photo_root=work / "photos", log_path=work / "gunicorn.log"
    )
    api.start()
    try:
        yield api, cluster
    finally:
        api.stop()
        cluster.stop()


def test_reads_and_writes_right_after_a_database_crash_answer_as_usual(server):
    api, cluster = server
    callers = [Caller(api.port, "gridworker1", f"restart-{i}") for i in range(THREADS)]
    status, page = callers[0].call("GET", "/api/v1/enterprises?per_page=1")
    assert status == 200, page
    path = f"/api/v1/enterprises/{page['items'][0]['id']}"

    def read_many(caller: Caller) -> list[int]:
        return [caller.call("GET", path)[0] for _ in range(5)]

    with ThreadPoolExecutor(THREADS) as pool:
        # Every thread of the worker holds pooled connections of both pools before the crash.
        assert all(s == 200 for statuses in pool.map(read_many, callers) for s in statuses)
        assert callers[0].call("POST", "/api/v1/auth/logout")[0] == 204
        callers[0] = Caller(api.port, "gridworker1", "restart-0")

        cluster.crash()
        cluster.ensure()  # up again, every connection of the pools dead

        # Reads at once on every pooled connection: each meets a dead one, and is run again.
        answers = list(pool.map(read_many, callers))
    assert all(s == 200 for statuses in answers for s in statuses), answers
    # A write after the crash: the write pool pings before use.
    assert callers[1].call("POST", "/api/v1/auth/logout")[0] == 204
    assert callers[1].call("GET", path)[0] == 401


def test_the_ledger_streams_over_a_kept_connection_which_serves_the_next_request(server):
    api, _cluster = server
    desk = Caller(api.port, "desk", "stream-desk")
    response = desk.raw("GET", "/api/v1/hazards/export.xlsx")
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked" and response.getheader("Content-Length") is None
    first = response.read(4)
    assert first == b"PK\x03\x04"
    workbook = load_workbook(io.BytesIO(first + response.read()))
    assert workbook["隐患台账"]["A1"].value == "序号"
    assert workbook["说明"]["B4"].value == workbook["隐患台账"].max_row - 1
    # The same connection goes on: the chunked answer ended where it said.
    assert desk.call("GET", "/api/v1/hazards?per_page=1")[0] == 200
