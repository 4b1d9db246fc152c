"""The ``conduit`` command: the worked example's own schema and demo data.

The gateway migrates only its own records; the application it serves keeps its schema with
its own tools, as any team's app does. Settings come from ``CONDUIT_*``.
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from gateway.records.drivers import sync_url
from shared import demo as demo_data
from shared import migrate
from shared.db import Database
from shared.settings import Environment, Settings, get_settings


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid CONDUIT_* settings:\n{exc}") from exc


def _upgrade(settings: Settings) -> None:
    migrate.upgrade(settings)
    name = sync_url(settings.database.url).render_as_string(hide_password=True)
    click.echo(f"Database {name} is at revision {migrate.current_revision(settings)}.")


@click.group()
def main() -> None:
    """The Conduit example: its database schema and demo data."""


@main.group()
def db() -> None:
    """Conduit's schema, managed by its Alembic migrations (migrations/)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all pending migrations to the configured database."""
    _upgrade(_settings())


@main.command()
def demo() -> None:
    """Apply migrations, then add demo data if the database has no users yet."""
    settings = _settings()
    if settings.environment is Environment.production:
        raise click.ClickException("demo data has known passwords: refused in production")
    _upgrade(settings)
    database = Database(settings.database)
    try:
        seeded = demo_data.seed(database)
    finally:
        database.dispose()
    if seeded:
        emails = ", ".join(user.email for user in demo_data.USERS)
        click.echo(f"Demo data added; users {emails} (passwords in README.md).")
    else:
        click.echo("Database already has users; demo data not added.")


if __name__ == "__main__":  # python -m shared.cli
    main()
