"""The scheduled jobs: what each does, and when (cron fields in Asia/Shanghai).

A job function takes the session its runner opened, the clock and the ``JobEnv``; it returns a small
JSON-able summary (kept in ``job_runs``) and never commits: ``jobs.runner.run_job`` does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.orm import Session

from config.settings import Settings
from core.clock import Clock
from jobs import tasks
from evidence.service import remove_orphan_photos
from reports.figures import freeze_due_month
from sync.compaction import compact_change_log


@dataclass(frozen=True)
class JobEnv:
    settings: Settings
    photo_store: Any = None


@dataclass(frozen=True)
class Job:
    name: str
    title: str
    run: Callable[[Session, Clock, JobEnv], dict]
    # APScheduler cron fields; every job also runs once when a scheduler takes over (catch-up).
    cron: dict = field(default_factory=dict)


def overdue_hazards(session: Session, clock: Clock, env: JobEnv) -> dict:
    return tasks.create_overdue_tasks(session, clock, env.settings)


def recheck_tasks(session: Session, clock: Clock, env: JobEnv) -> dict:
    return tasks.create_recheck_tasks(session, clock, env.settings)


def patrol_tasks(session: Session, clock: Clock, env: JobEnv) -> dict:
    return tasks.create_patrol_tasks(session, clock, env.settings)


def self_inspection_tasks(session: Session, clock: Clock, env: JobEnv) -> dict:
    return tasks.create_self_inspection_tasks(session, clock, env.settings)


def monthly_figures(session: Session, clock: Clock, env: JobEnv) -> dict:
    return freeze_due_month(session, clock, env.settings.figures_grace_days)


def orphan_photos(session: Session, clock: Clock, env: JobEnv) -> dict:
    if env.photo_store is None:
        return {"skipped": "no photo store"}
    removed = remove_orphan_photos(session, clock, env.photo_store, env.settings.orphan_photo_days)
    # Parts of resumable uploads nobody continued for a week (files only, nothing to commit).
    purged = env.photo_store.purge_partials(7 * 24 * 3600)
    return {"photos_removed": removed, "partials_purged": purged}


def compact_feed(session: Session, clock: Clock, env: JobEnv) -> dict:
    return compact_change_log(session, clock, env.settings.feed_retention_days)


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        # Deadlines fall at any hour: checked hourly, so an overdue hazard is known within the hour.
        Job("overdue_hazards", "逾期隐患：督办任务与挂牌督办", overdue_hazards, {"minute": 5}),
        Job("recheck_tasks", "整改期限届满：复查任务", recheck_tasks, {"minute": 10}),
        # Just after midnight, so a day's, week's or month's tasks are there when the day starts.
        Job("patrol_tasks", "按风险等级生成巡查任务", patrol_tasks, {"hour": 0, "minute": 20}),
        Job("self_inspection_tasks", "企业“日周月”自查提醒", self_inspection_tasks, {"hour": 0, "minute": 25}),
        Job("monthly_figures", "月度统计定格（月排名、月通报）", monthly_figures, {"hour": 1, "minute": 30}),
        Job("orphan_photos", "清理无主照片", orphan_photos, {"hour": 3, "minute": 30}),
        Job("compact_feed", "同步变更日志压缩", compact_feed, {"hour": 4, "minute": 10}),
    )
}
