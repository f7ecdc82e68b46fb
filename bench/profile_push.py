"""Where push time goes: ``push_batch`` on one bench batch in this process (no HTTP, one thread),
timed plainly, then again under cProfile; the transaction is rolled back each time, so the county
is left as it was. Run after ``make bench`` has built ``anxun_bench``:

    DATABASE_URL=postgresql://…/anxun_bench .venv/bin/python -m bench.profile_push [changes] [repeat] [--http]

Prints changes/s and the top of the profile (cumulative and own time). With ``--http`` the whole request
goes through the Flask test client (gzip body, authentication, the answer dumped and stored) and is
committed, so the county gains the batches: the next ``make bench`` builds it anew unless reused."""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import sys
import time

from sqlalchemy import create_engine, event, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.service import _principal
from api.memory import tune_garbage_collector
from bench import payloads
from bench.client import json_body
from bench.config import Sizes
from config.settings import Settings
from core.clock import Clock
from sync.push import push_batch


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    over_http = "--http" in sys.argv[1:]
    changes = int(args[0]) if args else 200
    repeat = int(args[1]) if len(args) > 1 else 3
    url = os.environ["DATABASE_URL"]
    settings = Settings.from_env({}, database_url=url)
    sizes = Sizes.from_env()
    phone = payloads.load_phones(url, sizes, 1)[0]
    templates = payloads.load_templates(url)
    rng = random.Random(7)
    engine = create_engine(url)
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    clock = Clock()
    app = None
    if over_http:
        from api.app import create_app

        app = create_app(settings)
        event.listen(
            app.extensions["anxun"].engine,
            "before_cursor_execute",
            lambda *a: statements.__setitem__(0, statements[0] + 1),
        )

    tune_garbage_collector()  # as wsgi.py sets it for the served app

    def in_process(body: dict, profile: cProfile.Profile | None) -> tuple[dict, float]:
        with Session(engine) as session:
            user = session.scalar(select(User).where(User.username == phone.username))
            principal = _principal(session, user, phone.device)
            started = time.perf_counter()
            if profile:
                profile.enable()
            answer = push_batch(session, clock, principal, body, settings=settings)
            if profile:
                profile.disable()
            seconds = time.perf_counter() - started
            session.rollback()
        return answer, seconds

    def through_http(body: dict, profile: cProfile.Profile | None) -> tuple[dict, float]:
        data, headers = json_body(body, gzipped=True)
        headers["Authorization"] = f"Bearer {phone.token}"
        with app.test_client() as client:
            started = time.perf_counter()
            if profile:
                profile.enable()
            reply = client.post("/api/v1/sync/push", data=data, headers=headers)
            if profile:
                profile.disable()
            seconds = time.perf_counter() - started
        assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
        return reply.get_json(), seconds

    def once(profile: cProfile.Profile | None = None) -> float:
        body = payloads.batch(phone, templates, rng, changes)
        cpu = time.process_time()
        answer, seconds = (through_http if over_http else in_process)(body, profile)
        cpu = time.process_time() - cpu  # this process's own: on a busy machine steadier than the clock
        statuses = {}
        for result in answer["results"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        print(
            f"  {changes} changes in {seconds:.2f} s = {changes / seconds:.0f}/s, {cpu * 1000 / changes:.2f} ms of CPU "
            f"a change here  {statuses}",
            flush=True,
        )
        return seconds

    once()  # warm: templates parsed, statements compiled
    before = statements[0]
    times = [once() for _ in range(repeat)]
    per_batch = (statements[0] - before) / repeat
    print(f"best {changes / min(times):.0f} changes/s; {per_batch / changes:.1f} SQL statements a change")
    profile = cProfile.Profile()
    once(profile)
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(key).print_stats(35)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
