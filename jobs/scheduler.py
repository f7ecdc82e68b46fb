"""The scheduler process (``flask --app wsgi anxun scheduler``): APScheduler fires the jobs of
``jobs.jobs.JOBS`` on their cron times in Asia/Shanghai.

Several may be started (one per host, for failover); exactly one acts. The acting one holds a
session-level PostgreSQL advisory lock on a connection of its own for as long as it lives; the others
try to take it every ``scheduler_retry_seconds`` and fire nothing meanwhile. When the holder dies its
connection closes and the lock is free. Whoever takes the lock first runs every job once (catch-up:
the jobs are idempotent and keyed by period, so runs missed while no scheduler acted are made good
and nothing is done twice). Each run also takes its job's own lock (``jobs.runner``), so even a
takeover during a run cannot run a job twice at once."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import SHANGHAI, Clock
from jobs.jobs import JOBS, Job, JobEnv
from jobs.runner import LOCK_CLASS, Outcome, run_job, runner_name

log = logging.getLogger(__name__)

# Second key of the leader lock; job locks use the hash of the job name instead.
LEADER_KEY = 0


class JobScheduler:
    def __init__(
        self,
        engine: Engine,
        session_factory: sessionmaker[Session],
        clock: Clock,
        env: JobEnv,
        *,
        retry_seconds: int | None = None,
        jobs: dict[str, Job] = JOBS,
        runner: str | None = None,
    ):
        self.engine = engine
        self.session_factory = session_factory
        self.clock = clock
        self.env = env
        self.jobs = jobs
        self.retry_seconds = retry_seconds or env.settings.scheduler_retry_seconds
        self.runner = runner or runner_name("scheduler")
        self._leader: Connection | None = None
        self._guard = threading.Lock()
        self._apscheduler: BaseScheduler | None = None

    # ------------------------------------------------------------------ leadership

    @property
    def leading(self) -> bool:
        return self._leader is not None

    def _still_leading(self) -> bool:
        """The lock lives as long as its connection: a connection that answers still holds it."""
        if self._leader is None:
            return False
        try:
            self._leader.exec_driver_sql("SELECT 1")
            return True
        except DBAPIError:
            log.warning("scheduler %s lost its database connection and with it the lead", self.runner)
            self._drop_leader()
            return False

    def _drop_leader(self) -> None:
        leader, self._leader = self._leader, None
        if leader is not None:
            try:
                leader.invalidate()
                leader.close()
            except DBAPIError:
                pass

    def check_leadership(self) -> bool:
        """Keep the lead, or try to take it; on taking it, catch up by running every job once."""
        with self._guard:
            if self._still_leading():
                return True
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                taken = connection.scalar(select(func.pg_try_advisory_lock(LOCK_CLASS, LEADER_KEY)))
            except DBAPIError:
                connection.close()
                raise
            if not taken:
                connection.close()
                return False
            self._leader = connection
        log.info("scheduler %s acts now; catching up", self.runner)
        self.catch_up()
        return True

    def release(self) -> None:
        """Give the lead up at once (a standby takes it on its next try)."""
        with self._guard:
            if self._leader is not None:
                try:
                    self._leader.scalar(select(func.pg_advisory_unlock(LOCK_CLASS, LEADER_KEY)))
                except DBAPIError:
                    pass
                self._drop_leader()

    # ------------------------------------------------------------------ running jobs

    def fire(self, name: str) -> Outcome | None:
        """A job's time has come: run it if this scheduler acts, else do nothing."""
        if not self._still_leading():
            return None
        return run_job(self.session_factory, self.clock, self.env, name, runner=self.runner, jobs=self.jobs)

    def catch_up(self) -> list[Outcome]:
        return [outcome for name in self.jobs if (outcome := self.fire(name)) is not None]

    # ------------------------------------------------------------------ APScheduler

    def build(self, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
        # One worker thread: jobs run one after another, never beside each other.
        scheduler = scheduler_class(
            timezone=SHANGHAI,
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        scheduler.add_job(
            self.check_leadership,
            "interval",
            seconds=self.retry_seconds,
            id="leadership",
            name="leader lock",
            next_run_time=datetime.now(SHANGHAI),
        )
        for job in self.jobs.values():
            if job.cron:
                scheduler.add_job(
                    self.fire, CronTrigger(timezone=SHANGHAI, **job.cron), args=[job.name], id=job.name, name=job.title
                )
        self._apscheduler = scheduler
        return scheduler

    def start_background(self) -> BaseScheduler:
        scheduler = self.build(BackgroundScheduler)
        scheduler.start()
        return scheduler

    def run_forever(self) -> None:
        """Block until SIGTERM/SIGINT; then finish the running job and give the lead up."""
        scheduler = self.build(BlockingScheduler)

        def stop(signum, frame):
            if scheduler.running:  # a second signal while stopping changes nothing
                log.info("scheduler %s stopping (signal %s); letting the running job finish", self.runner, signum)
                scheduler.shutdown(wait=True)

        signal.signal(signal.SIGTERM, stop)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=True)
            self.release()

    def shutdown(self) -> None:
        if self._apscheduler is not None and self._apscheduler.running:
            self._apscheduler.shutdown(wait=True)
        self.release()
