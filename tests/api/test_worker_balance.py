"""Workers take a new connection only with a thread free for it, and a freed thread takes turns between new
connections and kept-alive ones (api/workers.py, issue 23), on gunicorn as ``make run`` starts it
(config/gunicorn.py), on a copy of the demo database.

A push is held inside the database: the test's own transaction holds the advisory lock the push takes
for its batch (sync/push.py), so a worker's only thread waits there. Plain gthread would still accept
new connections on that worker and queue them behind the push; here every new connection goes to the
other worker and is answered while the push still waits. Behind the held push requests pile up on one
worker, new and kept-alive; once it is released neither kind may overtake the other for long."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
from sqlalchemy import create_engine, text

from bench.server import Server
from tests.conftest import serving_demo_copy

FRESH_CONNECTIONS = 10
# Only a bound on waiting for what must already have happened, so that a worker queueing the requests
# behind the held push fails the test instead of hanging it; nothing is asserted about how long it took.
HANG = 60


@pytest.fixture(params=[1, 2], ids=["1 thread", "2 threads"])
def one_worker(request, server_url, template_url, tmp_path):
    """One worker of one thread, or of two (make run's workers have four): the turns must not depend on
    there being a single thread. Kept-alive connections must outlast the setup of a test (gunicorn closes
    them after 2 s idle)."""
    with serving_demo_copy(
        server_url,
        template_url,
        tmp_path,
        workers=1,
        threads=request.param,
        env={"GUNICORN_CMD_ARGS": "--keep-alive 60"},
    ) as server:
        server.threads = request.param
        yield server


@pytest.fixture
def two_single_thread_workers(server_url, template_url, tmp_path):
    with serving_demo_copy(server_url, template_url, tmp_path, workers=2, threads=1) as server:
        yield server


def ask(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    """One request on a fresh connection: (status, JSON answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG * 2)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def login(port: int, username: str, device_id: str) -> str:
    status, answer = ask(
        port,
        "POST",
        "/api/v1/auth/login",
        {"username": username, "password": "anxun-demo", "device": {"id": device_id}},
    )
    assert status == 200, answer
    return answer["token"]


class HeldPush:
    """``POST /sync/push`` of an empty batch on its own connection, while the test's transaction holds the
    batch's advisory lock: the serving thread waits inside PostgreSQL until ``release``."""

    def __init__(self, server: Server, token: str, device_id: str, answered: list, lock: threading.Lock):
        self.port = server.port
        self.token = token
        self.batch_id = f"held-{uuid.uuid4().hex[:8]}"
        self.engine = create_engine(server.database_url)
        self.holder = self.engine.connect()
        self.transaction = self.holder.begin()
        self.holder.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"sync-batch/{device_id}/{self.batch_id}"},
        )
        self.answered, self.lock = answered, lock
        self.thread = threading.Thread(target=self._send)
        self.result: tuple[int, dict] | None = None

    def _send(self) -> None:
        body = {"batch_id": self.batch_id, "sent_at": "2026-11-22T09:00:00+08:00", "changes": []}
        self.result = ask(self.port, "POST", "/api/v1/sync/push", body, self.token)
        with self.lock:
            self.answered.append("push")

    def start_and_wait_until_blocked(self, already_waiting: int = 0) -> None:
        """Send the push; return once it waits on the lock (besides ``already_waiting`` pushes held before)."""
        self.thread.start()
        # A state, not a time: the push's transaction is queued behind ours on the advisory lock.
        with self.engine.connect() as probe:
            for _ in range(HANG * 20):
                waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                if probe.scalar(waiting) > already_waiting:
                    return
                probe.rollback()
                time.sleep(0.05)
        pytest.fail("the push never reached its batch lock")

    def release(self) -> tuple[int, dict]:
        self.transaction.rollback()
        self.holder.close()
        self.thread.join(HANG)
        self.engine.dispose()
        assert self.result is not None, "the push was not answered after its lock was released"
        return self.result


def test_new_connections_go_to_the_worker_with_a_free_thread_while_the_other_waits(two_single_thread_workers):
    server = two_single_thread_workers
    assert len(server.worker_pids()) == 2
    pusher = login(server.port, "gridworker1", "balance-pusher")
    reader = login(server.port, "gridworker2", "balance-reader")
    answered: list[str] = []
    lock = threading.Lock()
    push = HeldPush(server, pusher, "balance-pusher", answered, lock)
    push.start_and_wait_until_blocked()

    def read(n: int) -> int:
        path = "/api/v1/health" if n % 2 else "/api/v1/enterprises?per_page=1"
        status, _ = ask(server.port, "GET", path, token=reader)
        with lock:
            answered.append(f"read {n}")
        return status

    with ThreadPoolExecutor(FRESH_CONNECTIONS) as pool:
        reads = [pool.submit(read, n) for n in range(FRESH_CONNECTIONS)]
        done, _ = wait(reads, timeout=HANG)
        with lock:
            before_release = list(answered)
        status, answer = push.release()
        statuses = [f.result() for f in reads]

    # Every fresh connection was answered by the free worker while the push still held the other one.
    assert len(done) == FRESH_CONNECTIONS and "push" not in before_release, before_release
    assert statuses == [200] * FRESH_CONNECTIONS
    assert status == 200 and answer["batch_id"] == push.batch_id and answer["results"] == [], answer
    assert answered[-1] == "push"


def test_a_request_in_flight_when_the_server_stops_is_still_answered(two_single_thread_workers):
    server = two_single_thread_workers
    pusher = login(server.port, "gridworker1", "stopping-pusher")
    push = HeldPush(server, pusher, "stopping-pusher", [], threading.Lock())
    push.start_and_wait_until_blocked()
    assert len(server.worker_pids()) == 2
    server.process.send_signal(signal.SIGTERM)  # graceful: workers finish what they hold
    # The idle worker is gone once the stop reached the workers; the held one waits for its push.
    for _ in range(HANG * 20):
        if len(server.worker_pids()) == 1:
            break
        time.sleep(0.05)
    assert len(server.worker_pids()) == 1
    status, answer = push.release()
    assert status == 200 and answer["batch_id"] == push.batch_id, answer
    assert server.process.wait(HANG) == 0


class KeptAlive:
    """A phone on one kept-alive connection sending ``rounds`` requests back to back (a closed loop),
    noting each answer in ``answered`` as ``name``. The first request is sent by ``send_first`` (from
    the test's thread, so that it is on its way before what the test does next); ``start`` goes on."""

    def __init__(self, port: int, name: str, rounds: int, answered: list, lock: threading.Lock):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG * 2)
        self.name, self.rounds, self.answered, self.lock = name, rounds, answered, lock
        self.statuses: list[int] = []
        self.thread = threading.Thread(target=self._loop)

    def open(self) -> None:
        """One request answered: the connection is now held by the worker, kept alive."""
        self.connection.request("GET", "/api/v1/health")
        response = self.connection.getresponse()
        response.read()
        assert response.status == 200 and response.getheader("Connection", "").lower() != "close"

    def send_first(self) -> None:
        self.connection.request("GET", "/api/v1/health")

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        for n in range(self.rounds):
            if n:
                self.connection.request("GET", "/api/v1/health")
            response = self.connection.getresponse()
            response.read()
            with self.lock:
                self.answered.append(self.name)
            self.statuses.append(response.status)

    def join(self) -> None:
        self.thread.join(HANG)
        self.connection.close()


class HeldThreads:
    """Every thread of the worker held by a push stuck in the database (one device per thread)."""

    def __init__(self, server: Server):
        self.pushes = []
        for n in range(server.threads):
            device = f"held-{n}"
            push = HeldPush(server, login(server.port, f"gridworker{n + 1}", device), device, [], threading.Lock())
            push.start_and_wait_until_blocked(already_waiting=n)
            self.pushes.append(push)

    def release(self) -> list[int]:
        return [push.release()[0] for push in self.pushes]


def test_a_new_connection_is_not_starved_by_kept_alive_phones_in_a_closed_loop(one_worker):
    """Three phones keep the worker's thread busy back to back; a phone connecting meanwhile is answered
    before the requests they send after it — not after they all stop (gthread serves kept-alive
    connections without limit, and a balanced worker takes no new connection while its thread is busy)."""
    server = one_worker
    answered: list[str] = []
    lock = threading.Lock()
    phones = [KeptAlive(server.port, f"phone {n}", 20, answered, lock) for n in range(3)]
    for phone in phones:
        phone.open()
    held = HeldThreads(server)
    for phone in phones:
        phone.send_first()
    newcomer = KeptAlive(server.port, "newcomer", 1, answered, lock)
    newcomer.send_first()  # connected (the kernel's backlog) and sent; not yet accepted: no thread free
    for phone in phones + [newcomer]:
        phone.start()
    statuses = held.release()
    for phone in phones + [newcomer]:
        phone.join()

    assert statuses == [200] * server.threads
    assert newcomer.statuses == [200] and all(p.statuses == [200] * 20 for p in phones)
    # At most the three requests sent before the newcomer's went first. ``answered`` is the order the
    # clients read their answers in, which may swap answers given within a few milliseconds of each
    # other (the server's order is not visible from here): one place of slack per thread.
    assert answered.index("newcomer") <= len(phones) + server.threads, answered


def test_a_kept_alive_phone_is_not_starved_by_new_connections(one_worker):
    """The other way round: a phone's next request on its kept-alive connection, sent while the thread is
    busy, does not wait for every new connection that queued behind it."""
    server = one_worker
    answered: list[str] = []
    lock = threading.Lock()
    phone = KeptAlive(server.port, "kept alive", 1, answered, lock)
    phone.open()
    held = HeldThreads(server)
    phone.send_first()
    newcomers = [KeptAlive(server.port, f"newcomer {n}", 1, answered, lock) for n in range(6)]
    for newcomer in newcomers:
        newcomer.send_first()
    for one in [phone] + newcomers:
        one.start()
    statuses = held.release()
    for one in [phone] + newcomers:
        one.join()

    assert statuses == [200] * server.threads and phone.statuses == [200]
    assert all(n.statuses == [200] for n in newcomers)
    # Turns: each freed thread takes one new connection, then the waiting request — at most one newcomer
    # per thread before it, and one place of slack per thread for the clients' reading order (above).
    assert answered.index("kept alive") <= 2 * server.threads, answered
