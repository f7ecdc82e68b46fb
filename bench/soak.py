"""``make soak``: phones under a village's signal, a server that loses workers and a database that loses
power — and afterwards nothing lost, nothing applied twice, every phone equal to the server.

N phones (the reference client, sync/client/, each with its own state file and device) log in as the
demo's users, record hazards and their rectification steps from what their local copy shows, and sync
at random through a relay that loses answers after the server committed, cuts answers inside their
headers or body, and refuses connections (bench/relay.py). Meanwhile gunicorn workers are killed
(SIGKILL, with requests in flight) and PostgreSQL is crashed (``pg_ctl stop -m immediate``) and
started again. Then the faults stop, every phone drains its queue, and the run is judged:

- lost: every change a phone recorded is, per phone, either on the server (one hazard event with that
  device: applied) or held on the phone for its user (conflict, rejected); the counts must add up;
- duplicated: no change applied twice (two events of one device with the same content hash);
- converged: each phone's local copy equals a fresh full pull of its user.

Its own cluster (ANXUN_PG_HOME under var/, a free port), its own database and gunicorn: it never
touches the demo data of ``make run`` or the tests' server. ``python -m bench.soak --phones 24
--seconds 150`` (make soak); tests/sync/test_faults.py runs it small in ``make test``."""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.config import ROOT
from bench.relay import ChaosRelay
from bench.server import Server
from sync.client.client import SyncClient
from sync.client.transport import SyncError

# Phones are handed out in this order: every role the loop needs, several devices per user.
USERS = ("gridworker1", "inspector1", "enterprise1", "gridworker2", "inspector2", "desk", "gridworker3")
PASSWORD = "anxun-demo"


@dataclass
class Plan:
    phones: int = 24
    seconds: float = 150.0
    worker_kills: int = 2
    db_restarts: int = 1
    fault_rate: float = 0.1
    seed: int = 1
    workers: int = 2
    threads: int = 4


@dataclass
class Figures:
    plan: dict
    recorded: int = 0
    applied: int = 0
    kept_as_conflict: int = 0
    kept_as_rejected: int = 0
    still_queued: int = 0
    lost: int = 0
    duplicated: int = 0
    phones_converged: int = 0
    phones_behind: dict = field(default_factory=dict)
    sync_errors: dict = field(default_factory=dict)
    faults: dict = field(default_factory=dict)
    worker_kills: int = 0
    db_restarts: int = 0
    drain_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.still_queued == 0
            and self.phones_converged == self.plan["phones"]
        )


class Cluster:
    """A private PostgreSQL cluster of its own (scripts/pg.sh with ANXUN_PG_HOME), so it can be crashed."""

    def __init__(self, home: Path, port: int | None = None):
        self.env = dict(
            os.environ, ANXUN_PG_HOME=str(home), ANXUN_PG_PORT=str(port or free_port()), ANXUN_PG_DB="anxun_soak"
        )

    def _pg(self, command: str) -> str:
        done = subprocess.run(
            [str(ROOT / "scripts" / "pg.sh"), command], env=self.env, cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/pg.sh {command}: {done.stderr[-2000:]}")
        return done.stdout.strip()

    def ensure(self) -> str:
        return self._pg("ensure")

    def crash(self) -> None:
        self._pg("crash")

    def stop(self) -> None:
        self._pg("stop")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(url: str) -> None:
    """The demo district on an empty database, as ``make run`` builds it."""
    from checklists.service import publish_templates
    from core.clock import Clock
    from db.migrate import upgrade
    from demo.data import load_demo

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        publish_templates(session, Clock())
        load_demo(session, Clock())
    engine.dispose()


class Phone:
    """One phone in the field: its own state file and device; records what its local copy offers."""

    def __init__(self, index: int, username: str, workdir: Path, url: str, rng: random.Random):
        self.index, self.username, self.rng, self.workdir = index, username, rng, workdir
        self.client = SyncClient(
            workdir / f"phone-{index:02d}.sqlite",
            server_url=url,
            max_attempts=2,
            backoff=0.05,
            max_backoff=0.5,
            max_wait=3,
            timeout=(3.0, 60.0),
        )
        self.recorded = 0
        self.errors: Counter = Counter()

    def _photo(self) -> Path:
        """A small JPEG of its own (its own SHA-256), as the camera would leave it on the phone."""
        path = self.workdir / f"photo-{self.index:02d}-{self.rng.randrange(10**9)}.jpg"
        image = Image.effect_noise((96, 72), 40 + self.rng.random() * 40).convert("RGB")
        image.save(path, "JPEG", quality=85)
        return path

    def login(self, deadline: float) -> None:
        while True:
            try:
                self.client.login(self.username, PASSWORD)
                return
            except SyncError as err:
                self.errors[type(err).__name__] += 1
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def sync(self) -> bool:
        try:
            self.client.sync()
            return True
        except SyncError as err:  # no signal, server busy: everything stays queued
            self.errors[type(err).__name__] += 1
            return False

    def step(self) -> None:
        change = self._next_change()
        if change is not None:
            self.client.record(change)
            self.recorded += 1
        if self.rng.random() < 0.5:
            self.sync()

    def _next_change(self) -> dict | None:
        queued = {c.key for c in self.client.state.changes("queued")}
        hazards = [
            (key[1], data)
            for key, data in self.client.state.records("hazard").items()
            if key not in queued and data.get("level") == "general"
        ]
        role = self.username.rstrip("0123456789")
        if role == "gridworker" and (not hazards or self.rng.random() < 0.5):
            enterprises = sorted(self.client.ids("enterprise"))
            if not enterprises:
                return None
            now = datetime.now().astimezone().isoformat()
            return {
                "entity": "hazard",
                "op": "create",
                "id": str(uuid.uuid4()),
                "data": {
                    "enterprise_id": self.rng.choice(enterprises),
                    "level": "general",
                    "description": f"巡查发现隐患 {self.rng.randrange(10**6)}",
                    "location": None,
                    "photos": [],
                    "found_at": now,
                },
            }
        wanted = {
            "gridworker": ("ordered",),
            "enterprise": ("ordered",),
            "inspector": ("reported", "submitted"),
            "desk": ("reported",),
        }[role]
        candidates = [(hazard_id, data) for hazard_id, data in hazards if data.get("status") in wanted]
        if not candidates:
            return None
        hazard_id, data = self.rng.choice(sorted(candidates, key=lambda c: c[0]))
        if data["status"] == "reported":
            deadline = f"{datetime.now().year + 1}-01-{self.rng.randrange(1, 28):02d}T00:00:00+08:00"
            action = {
                "action": "order",
                "deadline": deadline,
                "responsible_person": "企业负责人",
                "measures": "立即整改",
            }
        elif data["status"] == "ordered":
            action = {"action": "submit", "photos": [self.client.add_photo(self._photo())], "note": "已整改"}
        elif self.rng.random() < 0.6:
            action = {"action": "verify", "note": "复查合格"}
        else:
            action = {"action": "reject", "note": "整改不到位"}
        return {"entity": "hazard", "op": "transition", "id": hazard_id, "data": action}


def run(plan: Plan, workdir: Path, log=print) -> Figures:
    started = time.monotonic()
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for old in [*workdir.glob("phone-*.sqlite*"), *workdir.glob("photo-*.jpg")]:
        old.unlink()
    cluster = Cluster(workdir / "pg")
    url = cluster.ensure()
    log(f"soak: database {url}")
    fresh_database(url)
    server = Server(
        url,
        port=free_port(),
        workers=plan.workers,
        threads=plan.threads,
        photo_root=workdir / "photos",
        log_path=workdir / "gunicorn.log",
    )
    server.start()
    relay = ChaosRelay(("127.0.0.1", server.port), fault_rate=0.0, seed=plan.seed)
    figures = Figures(plan=asdict(plan))
    rng = random.Random(plan.seed)
    phones = [
        Phone(i, USERS[i % len(USERS)], workdir, relay.url, random.Random(rng.random())) for i in range(plan.phones)
    ]
    try:
        for phone in phones:
            phone.login(time.monotonic() + 60)
            phone.sync()
        relay.fault_rate = plan.fault_rate
        log(
            f"soak: {plan.phones} phones for {plan.seconds:.0f} s, {plan.fault_rate:.0%} of connections faulty, "
            f"{plan.worker_kills} worker kills, {plan.db_restarts} database crashes"
        )
        _field_work(plan, phones, server, cluster, figures, log)
        relay.fault_rate = 0.0
        drain = time.monotonic()
        _drain(phones, log)
        figures.drain_seconds = round(time.monotonic() - drain, 1)
        _judge(plan, phones, url, server, figures, log)
        figures.faults = dict(relay.counts)
    finally:
        relay.close()
        for phone in phones:
            phone.client.close()
        server.stop()
        cluster.stop()
    figures.wall_seconds = round(time.monotonic() - started, 1)
    return figures


def _field_work(plan: Plan, phones: list[Phone], server: Server, cluster: Cluster, figures: Figures, log) -> None:
    stop = threading.Event()
    failures: list[str] = []

    def walk(phone: Phone):
        try:
            while not stop.is_set():
                phone.step()
                time.sleep(phone.rng.uniform(0.05, 0.6))
        except Exception as err:  # a bug of the client or the harness: the run fails with it
            failures.append(f"phone {phone.index} ({phone.username}): {err!r}")

    threads = [threading.Thread(target=walk, args=(phone,)) for phone in phones]
    for thread in threads:
        thread.start()
    # Faults at even intervals: worker kills and database crashes interleaved.
    events = ["kill"] * plan.worker_kills + ["crash"] * plan.db_restarts
    random.Random(plan.seed).shuffle(events)
    start = time.monotonic()
    for n, event in enumerate(events, 1):
        time.sleep(max(0.0, start + plan.seconds * n / (len(events) + 1) - time.monotonic()))
        if event == "kill" and (pids := server.worker_pids()):
            os.kill(random.Random(n).choice(pids), signal.SIGKILL)
            figures.worker_kills += 1
            log(f"soak: t={time.monotonic() - start:.0f} s killed a gunicorn worker")
        elif event == "crash":
            cluster.crash()
            time.sleep(2)
            cluster.ensure()
            figures.db_restarts += 1
            log(f"soak: t={time.monotonic() - start:.0f} s PostgreSQL crashed and started again")
    time.sleep(max(0.0, start + plan.seconds - time.monotonic()))
    stop.set()
    for thread in threads:
        thread.join(120)
    if failures:
        raise RuntimeError("; ".join(failures))


def _drain(phones: list[Phone], log, rounds: int = 30) -> None:
    """Signal is back: every phone syncs until nothing is queued or in flight."""
    for _ in range(rounds):
        pending = [p for p in phones if p.client.state.changes("queued") or p.client.state.pending_batch()]
        if not pending:
            break
        for phone in pending:
            phone.sync()
    for phone in phones:  # a last pull each, after the last push of every other phone
        phone.sync()


def _judge(plan: Plan, phones: list[Phone], url: str, server: Server, figures: Figures, log) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        events = Counter(
            dict(conn.execute(text("SELECT device_id, count(*) FROM hazard_events GROUP BY device_id")).all())
        )
        figures.duplicated = int(
            conn.execute(
                text("""
            SELECT coalesce(sum(n - 1), 0) FROM (
                SELECT count(*) AS n FROM hazard_events WHERE change_hash IS NOT NULL
                 GROUP BY device_id, hazard_id, change_hash HAVING count(*) > 1) twice""")
            ).scalar_one()
        )
    engine.dispose()
    errors: Counter = Counter()
    for phone in phones:
        state = phone.client.state
        conflicts, rejected = len(state.changes("conflict")), len(state.changes("rejected"))
        queued = len(state.changes("queued")) + (1 if state.pending_batch() else 0)
        applied = events.get(phone.client.device_id, 0)
        figures.recorded += phone.recorded
        figures.applied += applied
        figures.kept_as_conflict += conflicts
        figures.kept_as_rejected += rejected
        figures.still_queued += queued
        # Each recorded change is applied once (one event of this device), or kept for the user.
        figures.lost += max(0, phone.recorded - applied - conflicts - rejected - queued)
        figures.duplicated += max(0, applied - (phone.recorded - conflicts - rejected - queued))
        errors.update(phone.errors)
        fresh = SyncClient(Path(state.path).with_suffix(".fresh.sqlite"), server_url=server.base)
        try:
            fresh.login(phone.username, PASSWORD)
            fresh.pull()
            mine, theirs = state.records(), fresh.state.records()
            differ = sorted(str(k) for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        finally:
            fresh.close()
            for leftover in Path(state.path).parent.glob(Path(state.path).stem + ".fresh.sqlite*"):
                leftover.unlink()
        if differ:
            figures.phones_behind[f"{phone.index}:{phone.username}"] = differ[:5] + (
                [f"… {len(differ)}"] if len(differ) > 5 else []
            )
        else:
            figures.phones_converged += 1
    figures.sync_errors = dict(errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, value in asdict(Plan()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "soak")
    args = parser.parse_args(argv)
    plan = Plan(**{k: getattr(args, k) for k in asdict(Plan())})
    figures = run(plan, args.workdir, log=lambda m: print(m, flush=True))
    print(json.dumps(asdict(figures) | {"ok": figures.ok}, ensure_ascii=False, indent=2))
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
