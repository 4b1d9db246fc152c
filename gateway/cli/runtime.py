"""``gateway status`` and ``gateway history``: the runtime state as it serves, and its changes."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from gateway.cli.common import (
    ConfigArgs,
    config_options,
    load_everything,
    module_or_fail,
    open_records,
    read_config,
)
from gateway.control.changes import conflicts, current_changes, history, live_workers
from gateway.control.settings import Setting
from gateway.records.tables import ModuleChange


def _ago(moment: datetime) -> str:
    return f"{(datetime.now(UTC) - moment).total_seconds():.0f} s ago"


@click.command("status")
@config_options
def status(config_args: ConfigArgs) -> None:
    """Each module's state as served, where it differs from the manifest, and each live
    worker's version."""
    config = read_config(config_args)
    sides = load_everything(config)
    with open_records(config, sides) as store, store.session() as session:
        version, changes = current_changes(session)
        workers = live_workers(session)
    click.echo(f"runtime version {version}")
    for module in config.manifest.modules:
        click.echo(_status_line(Setting.of(module), module.name, changes.get(module.name)))
    for conflict in conflicts(config.manifest, changes):
        click.echo(f"conflict: {conflict}")
    click.echo(f"live workers: {len(workers)}")
    for worker in workers:
        behind = "" if worker.version == version else f" (behind: {version} is current)"
        seen = _ago(worker.seen_at)
        click.echo(f"  {worker.worker}: version {worker.version}{behind}, seen {seen}")


def _status_line(declared: Setting, name: str, change: ModuleChange | None) -> str:
    if change is None:
        return f"  {name}: {declared.describe()}"
    served = Setting.read(change.new)
    line = f"  {name}: {served.describe()}"
    if served != declared:
        line += f" (manifest: {declared.describe()}; since version {change.version})"
    return line


def _history_line(change: ModuleChange) -> str:
    previous, new = Setting.read(change.previous), Setting.read(change.new)
    when = change.created_at.isoformat(timespec="seconds")
    return (
        f"{change.version:>5}  {when}  {change.module}: {previous.describe()} -> "
        f"{new.describe()}  [{change.kind}] by {change.by}: {change.reason}"
    )


@click.command("history")
@config_options
@click.argument("module", required=False)
def history_command(config_args: ConfigArgs, module: str | None) -> None:
    """Every runtime change, newest first (MODULE's only, when named)."""
    config = read_config(config_args)
    if module is not None:
        module_or_fail(config, module)
    sides = load_everything(config)
    with open_records(config, sides) as store, store.session() as session:
        changes = history(session, module)
    if not changes:
        click.echo("no runtime changes: every module is as the manifest declares")
    for change in changes:
        click.echo(_history_line(change))
