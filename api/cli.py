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
