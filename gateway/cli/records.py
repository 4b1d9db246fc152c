"""``gateway db upgrade``: the gateway's own records."""

from __future__ import annotations

import click

from gateway.cli.common import (
    ConfigArgs,
    config_options,
    load_everything,
    read_config,
    records_url,
)
from gateway.config.configuration import Config
from gateway.mounts.sides import Sides
from gateway.records import migrate
from gateway.records.drivers import shown


def upgrade(config: Config, sides: Sides) -> str:
    """Bring the records to the newest revision; says where they are."""
    url = records_url(config, sides)
    migrate.upgrade(url)
    click.echo(f"Gateway records in {shown(url)} are at revision {migrate.current_revision(url)}.")
    return url


@click.group()
def db() -> None:
    """The gateway's own records (its tables, migrations and version table)."""


@db.command("upgrade")
@config_options
def db_upgrade(config_args: ConfigArgs) -> None:
    """Create or upgrade the gateway's tables; the application's schema is not touched."""
    config = read_config(config_args)
    upgrade(config, load_everything(config))
