"""``gateway db upgrade`` and ``gateway parity``: the gateway's own records."""

from __future__ import annotations

import json

import click

from gateway.cli.common import (
    ConfigArgs,
    config_options,
    load_everything,
    open_records,
    read_config,
    records_url,
)
from gateway.config.configuration import Config
from gateway.mounts.sides import Sides
from gateway.records import migrate
from gateway.records.drivers import shown
from gateway.records.parity import ModuleParity, parity


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


@click.command("parity")
@config_options
@click.option("--top", default=5, show_default=True, type=click.IntRange(min=1))
def parity_command(config_args: ConfigArgs, top: int) -> None:
    """Shadow evidence per module: comparisons, match rate, drops, frequent mismatches."""
    config = read_config(config_args)
    modules = [module.name for module in config.manifest.modules]
    with open_records(config, load_everything(config)) as store, store.session() as session:
        report = parity(session, modules, top=top)
    for entry in report:
        _echo_module(entry, str(config.manifest.module(entry.module).state))


def _echo_module(entry: ModuleParity, state: str) -> None:
    rate = "-" if entry.match_rate is None else f"{entry.match_rate:.1%}"
    click.echo(
        f"{entry.module} ({state}): {entry.comparisons} comparisons, {rate} matched, "
        f"{entry.errors} errors, {entry.dropped} dropped"
    )
    for mismatch in entry.mismatches:
        request = mismatch.example["request"]
        query = f"?{request['query']}" if request.get("query") else ""
        click.echo(f"  {mismatch.count} x {mismatch.signature}")
        click.echo(f"      e.g. {request['method']} {request['path']}{query}")
        detail = mismatch.example["error"] or json.dumps(mismatch.example["diff"])
        click.echo(f"      {detail[:500]}")
