"""Command-line tasks: ``flask --app wsgi anxun <command>``. Each owns its transaction."""

from __future__ import annotations

import sys

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
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="CRS of the coordinates (GeoJSON is WGS-84 unless the file says otherwise).",
)
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
        with (
            tqdm(
                total=len(features) if isinstance(features, list) else 0, unit="feature", desc="checking boundaries"
            ) as bar,
            services.session_factory.begin() as session,
        ):
            report = run_import(
                session, services.clock, None, collection, partial=partial, crs=crs, progress=bar.update
            )
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
    click.echo(
        f"scheduler started; jobs act only while this process holds the leader lock "
        f"(standby retry every {services.settings.scheduler_retry_seconds}s)"
    )
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
            last = session.scalar(
                select(JobRun)
                .where(JobRun.job == job.name)
                .order_by(JobRun.started_at.desc(), JobRun.id.desc())
                .limit(1)
            )
            when = " ".join(f"{k}={v}" for k, v in job.cron.items())
            state = (
                f"last {last.started_at:%Y-%m-%d %H:%M} {'ok' if last.ok else 'FAILED'} on {last.runner}"
                if last
                else "never run"
            )
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
            rows = freeze_month(session, services.clock, month_period(int(month[:4]), int(month[5:])), replace=replace)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"{month}: {rows} region rows written" + ("" if rows or replace else " (already frozen)"))


# --------------------------------------------------------------------------- people (personnel/admin.py, roster.py)

users_cli = AppGroup("users", help="People administration: roster import, accounts, passwords.")
anxun_cli.add_command(users_cli)


def _acting(session, username: str | None):
    """The principal a command acts as: ``--as USERNAME`` (their scope, named in the audit log), or the
    command line itself (every region, no actor recorded, ``via: cli``)."""
    import dataclasses

    from sqlalchemy import select

    from accounts.models import User
    from accounts.principal import command_line_principal
    from accounts.service import _principal

    if not username:
        return command_line_principal()
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise click.BadParameter(f"no active account {username!r}", param_hint="--as")
    return dataclasses.replace(_principal(session, user, None), extra={"via": "cli"})


def _fail(err) -> None:
    click.echo(f"{err.detail} ({err.code})", err=True)
    for problem in err.errors:
        click.echo(f"  {problem.message} ({problem.code})", err=True)
    raise SystemExit(1)


def _find_user(session, principal, username: str):
    from sqlalchemy import select

    from accounts.models import User

    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise click.BadParameter(f"no account {username!r}", param_hint="USERNAME")
    return user_id


class _Bars:
    """core.spreadsheets.Progress drawn as click progress bars, one per stage (on stderr)."""

    def __init__(self):
        self.bar = None

    def begin(self, stage: str, total: int) -> None:
        self.close()
        self.bar = click.progressbar(length=max(total, 1), label=stage, file=sys.stderr, show_pos=True)
        self.bar.__enter__()

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@users_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--as", "acting_as", metavar="USERNAME", help="Act as this admin or desk officer (their region).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write usernames and temporary passwords to this CSV file instead of the terminal.",
)
def import_roster_command(file, dry_run, acting_as, output):
    """Import a grid-worker roster (xlsx: 姓名、手机号、乡镇、村/社区、网格): all rows or none."""
    import csv

    from personnel.roster import RosterInvalid, import_roster
    from core.errors import DomainError

    services = _services()
    with open(file, "rb") as fh:
        data = fh.read()
    bars = _Bars()
    try:
        with services.session_factory.begin() as session:
            report = import_roster(
                session,
                services.clock,
                _acting(session, acting_as),
                data,
                dry_run=dry_run,
                filename=file,
                progress=bars,
            )
    except RosterInvalid as err:
        bars.close()
        _row_errors(err)
    except DomainError as err:
        bars.close()
        _fail(err)
    bars.close()
    if dry_run:
        click.echo(f"dry run: all {report.rows} rows pass; nothing written")
        return
    click.echo(f"imported {len(report.people)} grid workers; each must change the temporary password at first login")
    if output:
        with open(output, "w", encoding="utf-8-sig", newline="") as fh:  # with BOM: Excel opens it as UTF-8
            writer = csv.writer(fh)
            writer.writerow(["行", "姓名", "用户名", "临时密码", "乡镇", "村/社区", "网格"])
            for p in report.people:
                writer.writerow(
                    [
                        p["row"],
                        p["name"],
                        p["username"],
                        p["temporary_password"],
                        p["town"],
                        p["village"],
                        p["grid"]["name"],
                    ]
                )
        click.echo(f"usernames and temporary passwords written to {output}")
    else:
        for p in report.people:
            click.echo(f"{p['row']}\t{p['name']}\t{p['username']}\t{p['temporary_password']}")


@users_cli.command("create")
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    type=click.Choice(["admin", "desk_officer", "inspector", "grid_worker", "enterprise_officer"]),
)
@click.option("--phone")
@click.option("--username", help="Defaults to the phone number.")
@click.option("--region", help="12-digit division code (derived from --grid or --enterprise when left out).")
@click.option("--grid", "grid_ids", multiple=True, type=click.UUID, help="A grid id (grid workers); repeatable.")
@click.option("--enterprise", "enterprise_id", type=click.UUID, help="Enterprise id (enterprise officers).")
@click.option("--cert-no", help="执法证号 (inspectors).")
@click.option("--cert-valid-until", type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--as", "acting_as", metavar="USERNAME")
def create_user_command(
    name, roles, phone, username, region, grid_ids, enterprise_id, cert_no, cert_valid_until, acting_as
):
    """Create an account; prints its temporary password (to change at first login)."""
    from personnel.admin import create_user
    from core.errors import DomainError

    services = _services()
    data = {
        "name": name,
        "roles": list(roles),
        "phone": phone,
        "username": username,
        "region": region,
        "grid_ids": list(grid_ids),
        "enterprise_id": enterprise_id,
        "enforcement_cert_no": cert_no,
        "enforcement_cert_valid_until": cert_valid_until.date() if cert_valid_until else None,
    }
    try:
        with services.session_factory.begin() as session:
            user = create_user(session, services.clock, _acting(session, acting_as), data)
    except DomainError as err:
        _fail(err)
    click.echo(
        f"created {user['username']} ({user['name']}, {', '.join(user['roles'])}, "
        f"{user['region']['name']}); temporary password: {user['temporary_password']}"
    )


@users_cli.command("reset-password")
@click.argument("username")
@click.option("--as", "acting_as", metavar="USERNAME")
def reset_password_command(username, acting_as):
    """Give an account a new temporary password (its tokens end; it must be changed at next login)."""
    from personnel.admin import reset_password

    user = _act_on_user(username, acting_as, reset_password)
    click.echo(f"{user['username']}: temporary password {user['temporary_password']}")


@users_cli.command("deactivate")
@click.argument("username")
@click.option("--as", "acting_as", metavar="USERNAME")
def deactivate_command(username, acting_as):
    """Deactivate an account: no more logins, its tokens end at once, it leaves its grids."""
    from personnel.admin import deactivate_user

    user = _act_on_user(username, acting_as, deactivate_user)
    click.echo(f"{user['username']} deactivated")


def _act_on_user(username: str, acting_as: str | None, action) -> dict:
    """``action(session, clock, principal, user_id)`` on one account, in a transaction of its own, as
    ``acting_as`` (else the command line itself); a refusal ends the command with its reason."""
    from core.errors import DomainError

    services = _services()
    try:
        with services.session_factory.begin() as session:
            principal = _acting(session, acting_as)
            return action(session, services.clock, principal, _find_user(session, principal, username))
    except DomainError as err:
        _fail(err)


# --------------------------------------------------------------------------- enterprises (enterprises/imports.py)

enterprises_cli = AppGroup("enterprises", help="Enterprises (一企一档): import a list, write its template.")
anxun_cli.add_command(enterprises_cli)


@enterprises_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--update-existing",
    is_flag=True,
    help="Update an enterprise whose USCC is registered already (else such a row is an error).",
)
@click.option(
    "--crs",
    type=click.Choice(["gcj02", "wgs84", "bd09"]),
    default="gcj02",
    show_default=True,
    help="Datum of the coordinates where a row's 坐标系 column says none (gcj02: 高德/腾讯/WeChat; wgs84: GPS/天地图; bd09: 百度).",
)
@click.option("--as", "acting_as", metavar="USERNAME", help="Act as this admin or desk officer (their region).")
def import_enterprises_command(file, dry_run, update_existing, crs, acting_as):
    """Import a list of enterprises (xlsx: 企业名称、统一社会信用代码、行业、…、经度、纬度、风险等级): all rows or none."""
    from core.errors import DomainError
    from enterprises.imports import ImportInvalid, import_enterprises

    services = _services()
    with open(file, "rb") as fh:
        data = fh.read()
    bars = _Bars()
    try:
        with services.session_factory.begin() as session:
            report = import_enterprises(
                session,
                services.clock,
                _acting(session, acting_as),
                data,
                dry_run=dry_run,
                existing="update" if update_existing else "refuse",
                crs=crs,
                filename=file,
                progress=bars,
            )
    except ImportInvalid as err:
        bars.close()
        _row_errors(err)
    except DomainError as err:
        bars.close()
        _fail(err)
    bars.close()
    counts = f"{report.count('create')} new, {report.count('update')} updated, {report.count('unchanged')} unchanged"
    if dry_run:
        click.echo(f"dry run: all {report.rows} rows pass ({counts}); nothing written")
        return
    click.echo(f"imported {report.rows} rows: {counts}")
    outside = [e for e in report.enterprises if e["grid"] is None]
    for e in outside:
        click.echo(f"  第 {e['row']} 行 {e['name']}: in no grid ({e['town']}{e['village']})")


@enterprises_cli.command("template")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--as", "acting_as", metavar="USERNAME", help="Offer this officer's towns and villages in the lists.")
def enterprise_template_command(file, acting_as):
    """Write the blank xlsx to fill in for `enterprises import` (columns, drop-downs, notes)."""
    from enterprises.imports import import_template

    services = _services()
    with services.session_factory() as session:
        data = import_template(session, _acting(session, acting_as))
    with open(file, "wb") as fh:
        fh.write(data)
    click.echo(f"template written to {file}")


def _row_errors(err) -> None:
    """An import refused for its rows: the reason, then each bad row, on stderr; exit status 1."""
    report = err.extra["report"]
    click.echo(f"{err.detail}", err=True)
    for problem in report["errors"]:
        where = f"第 {problem['row']} 行" + (f" {problem['column']}" if problem["column"] else "")
        click.echo(f"  {where}: {problem['message']} ({problem['code']})", err=True)
    raise SystemExit(1) from err
