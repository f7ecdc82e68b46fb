"""Where push time goes: ``push_batch`` on one bench batch in this process (no HTTP, one thread),
timed plainly, then again under cProfile; the transaction is rolled back each time, so the county
is left as it was. Run after ``make bench`` has built ``anxun_bench``:

    DATABASE_URL=postgresql://…/anxun_bench .venv/bin/python -m bench.profile_push [changes] [repeat]

Prints changes/s and the top of the profile (cumulative and own time)."""

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
from bench import payloads
from bench.config import Sizes
from config.settings import Settings
from core.clock import Clock
from sync.push import push_batch


def main() -> int:
    changes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
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

    def once(profile: cProfile.Profile | None = None) -> float:
        body = payloads.batch(phone, templates, rng, changes)
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
        statuses = {}
        for result in answer["results"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        print(f"  {changes} changes in {seconds:.2f} s = {changes / seconds:.0f}/s  {statuses}", flush=True)
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
