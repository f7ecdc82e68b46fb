"""Command-line tasks: ``flask --app wsgi anxun <command>``. Each owns its transaction."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

anxun_cli = AppGroup("anxun", help="AnXun administration commands.")


def _services():
    return current_app.extensions["anxun"]


@anxun_cli.command("migrate")
def migrate():
    """Apply the Alembic migrations up to head."""
    from db.migrate import upgrade

    upgrade(_services().settings.database_url)
    click.echo("database migrated")


@anxun_cli.command("demo")
def demo():
    """Load the demo district (idempotent: an existing demo is left as it is)."""
    from demo.data import DEMO_PASSWORD, load_demo

    services = _services()
    with services.session_factory.begin() as session:
        summary = load_demo(session, services.clock)
    click.echo(summary.describe())
    click.echo(f"demo accounts (password {DEMO_PASSWORD}):")
    for username, description in summary.accounts:
        click.echo(f"  {username:<12} {description}")


@anxun_cli.command("checklists-publish")
def checklists_publish():
    """Publish the template files into the database (idempotent; an edited published version is refused)."""
    from checklists.service import publish_templates

    services = _services()
    with services.session_factory.begin() as session:
        report = publish_templates(session, services.clock)
    click.echo(report.describe())


@anxun_cli.command("import-boundaries")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--partial", is_flag=True, help="Write the accepted features even if others are refused.")
@click.option("--crs", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84", show_default=True,
              help="CRS of the coordinates (GeoJSON is WGS-84 unless the file says otherwise).")
def import_boundaries(file, partial, crs):
    """Import town and village boundaries from a GeoJSON FeatureCollection (re-import changes nothing)."""
    import json

    from tqdm import tqdm

    from core.errors import DomainError
    from grids.boundaries import import_boundaries as run_import

    services = _services()
    try:
        with open(file, encoding="utf-8") as fh:
            collection = json.load(fh)
    except (OSError, ValueError) as err:
        raise click.ClickException(f"cannot read {file}: {err}") from err
    features = collection.get("features") if isinstance(collection, dict) else None
    try:
        with tqdm(total=len(features) if isinstance(features, list) else 0, unit="feature",
                  desc="checking boundaries") as bar, services.session_factory.begin() as session:
            report = run_import(session, services.clock, None, collection, partial=partial, crs=crs,
                                progress=bar.update)
    except DomainError as err:
        click.echo(f"{err.detail} ({err.code})", err=True)
        for problem in err.errors:
            click.echo(f"  {problem.field}: {problem.message} ({problem.code})", err=True)
        raise SystemExit(1) from err
    click.echo(report.describe())


# --------------------------------------------------------------------------- scheduled jobs (jobs/)


def _job_env():
    from jobs.jobs import JobEnv

    services = _services()
    return JobEnv(settings=services.settings, photo_store=services.photo_store)


def _clock_at(at: str | None):
    from datetime import datetime

    from core.clock import FixedClock

    if not at:
        return _services().clock
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-12-01T00:30:00+08:00", param_hint="--at")
    return FixedClock(moment)


@anxun_cli.command("scheduler")
def scheduler():
    """Run the job scheduler until stopped (start one per host; exactly one acts, the others stand by)."""
    from jobs.scheduler import JobScheduler

    services = _services()
    click.echo(f"scheduler started; jobs act only while this process holds the leader lock "
               f"(standby retry every {services.settings.scheduler_retry_seconds}s)")
    JobScheduler(services.engine, services.session_factory, services.clock, _job_env()).run_forever()


@anxun_cli.command("run-job")
@click.argument("name")
@click.option("--at", help="Run as if it were this moment (ISO 8601 with offset), e.g. to make up a missed run.")
def run_job_command(name, at):
    """Run one job now (idempotent: work already done for its period is not done again)."""
    from jobs.jobs import JOBS
    from jobs.runner import run_job

    if name not in JOBS:
        raise click.BadParameter(f"unknown job; one of: {', '.join(JOBS)}", param_hint="NAME")
    services = _services()
    outcome = run_job(services.session_factory, _clock_at(at), _job_env(), name)
    if not outcome.ran:
        click.echo(f"{name}: running elsewhere right now; skipped")
    elif not outcome.ok:
        click.echo(f"{name}: failed: {outcome.error}", err=True)
        raise SystemExit(1)
    else:
        click.echo(f"{name}: {outcome.result}")


@anxun_cli.command("jobs")
def list_jobs():
    """List the scheduled jobs, when they run, and their last run."""
    from sqlalchemy import select

    from jobs.jobs import JOBS
    from jobs.models import JobRun

    services = _services()
    with services.session_factory() as session:
        for job in JOBS.values():
            last = session.scalar(select(JobRun).where(JobRun.job == job.name)
                                  .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))
            when = " ".join(f"{k}={v}" for k, v in job.cron.items())
            state = (f"last {last.started_at:%Y-%m-%d %H:%M} {'ok' if last.ok else 'FAILED'} on {last.runner}"
                     if last else "never run")
            click.echo(f"{job.name:<22} {when:<18} {job.title}  [{state}]")


@anxun_cli.command("figures")
@click.option("--month", required=True, help="YYYY-MM, a month that has ended.")
@click.option("--replace", is_flag=True, help="Recompute a month already frozen (changes published figures).")
def freeze_figures(month, replace):
    """Freeze one month's figures for every region (the monthly_figures job does the latest by itself)."""
    import re

    from core.periods import month_period
    from reports.figures import freeze_month

    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
        raise click.BadParameter("YYYY-MM", param_hint="--month")
    services = _services()
    try:
        with services.session_factory.begin() as session:
            rows = freeze_month(session, services.clock, month_period(int(month[:4]), int(month[5:])),
                                replace=replace)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"{month}: {rows} region rows written" + ("" if rows or replace else " (already frozen)"))
