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


@anxun_cli.command("checklists-validate")
@click.argument("directory", required=False)
def checklists_validate(directory):
    """Validate every checklist template file; exit 1 listing each problem."""
    from checklists.definition import DEFAULT_DIRECTORY, validate_all

    problems = validate_all(directory or DEFAULT_DIRECTORY)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("all checklist templates are valid")


@anxun_cli.command("checklists-publish")
def checklists_publish():
    """Publish the template files into the database (idempotent; an edited published version is refused)."""
    from checklists.service import publish_templates

    services = _services()
    with services.session_factory.begin() as session:
        report = publish_templates(session, services.clock)
    click.echo(report.describe())
