"""Running one job: the one place a job's work is committed.

The run holds a transaction-scoped advisory lock on the job's name, so the same job never runs twice
at once (a scheduler and a hand-started ``flask anxun run-job``, or two schedulers during a takeover);
the loser skips. The job's work and its ``job_runs`` row commit together; a failure rolls the work
back and is logged in a row of its own."""

from __future__ import annotations

import logging
import os
import socket
import traceback
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from core.serialize import jsonable
from jobs.jobs import JOBS, Job, JobEnv
from jobs.models import JobRun

log = logging.getLogger(__name__)

# The first key of AnXun's two-key advisory locks ("AnXJ"); the second is the job name's hash.
# (The sync push uses one-key locks, a separate key space.)
LOCK_CLASS = 0x416E584A


@dataclass(frozen=True)
class Outcome:
    job: str
    ran: bool
    ok: bool = True
    result: dict | None = None
    error: str | None = None


def runner_name(role: str = "cli") -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{role}"


def job_lock(name: str):
    return func.pg_try_advisory_xact_lock(LOCK_CLASS, func.hashtext(name))


def run_job(
    session_factory: sessionmaker[Session],
    clock: Clock,
    env: JobEnv,
    name: str,
    *,
    runner: str | None = None,
    jobs: dict[str, Job] = JOBS,
) -> Outcome:
    job = jobs[name]
    runner = runner or runner_name()
    started = clock.now()
    try:
        with session_factory.begin() as session:
            if not session.scalar(select(job_lock(name))):
                log.info("job %s is running elsewhere; skipped", name)
                return Outcome(name, ran=False)
            result = jsonable(job.run(session, clock, env))
            session.add(
                JobRun(job=name, runner=runner, started_at=started, finished_at=clock.now(), ok=True, result=result)
            )
    except Exception as err:  # the job's work is rolled back; the failure itself is kept
        log.exception("job %s failed", name)
        error = "".join(traceback.format_exception_only(err)).strip()
        with session_factory.begin() as session:
            session.add(
                JobRun(
                    job=name,
                    runner=runner,
                    started_at=started,
                    finished_at=clock.now(),
                    ok=False,
                    result={},
                    error=error[:4000],
                )
            )
        return Outcome(name, ran=True, ok=False, error=error)
    log.info("job %s done: %s", name, result)
    return Outcome(name, ran=True, result=result)
