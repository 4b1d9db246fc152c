"""The ``gateway`` command: set up, check and serve the gateway for any Flask app.

Every command reads the same configuration: the manifest (``--manifest``,
``GATEWAY_MANIFEST`` or ``./migration.toml``), ``GATEWAY_*`` variables and the flags below,
each overriding the one before. A configuration problem stops the command with one line
per problem, naming where it was set.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from flask import Flask

from gateway import migrate
from gateway.config import MANIFEST_VARIABLE, Config, load_config
from gateway.dburl import shown
from gateway.errors import ConfigError
from gateway.importing import ImportStringError, load
from gateway.options import env_name
from gateway.reports import legacy_routes, v2_operations
from gateway.reports import parity as shadow_parity
from gateway.server import SERVER_VARIABLE, uvicorn_settings
from gateway.starter import starter_manifest
from gateway.store import RecordStore
from gateway.targets import (
    LEGACY_NAMES,
    is_wsgi,
    load_errors,
    load_legacy,
    load_sticky,
    load_v2,
    prepend_python_path,
    records_database,
)

F = TypeVar("F", bound=Callable[..., Any])

# Options that are also flags: the ones a first try without a manifest needs.
_FLAGS = ("legacy", "v2", "legacy_prefix", "v2_prefix", "sticky", "database", "errors")


def config_options(command: F) -> F:
    """Add ``--manifest`` and the option flags; the command receives ``config_args``."""

    @functools.wraps(command)
    def wrapped(*args: Any, manifest: Path | None, **kwargs: Any) -> Any:
        flags = {name: kwargs.pop(name) for name in _FLAGS}
        return command(*args, config_args=(manifest, flags), **kwargs)

    for name in reversed(_FLAGS):
        wrapped = click.option(
            "--" + name.replace("_", "-"),
            name,
            default=None,
            help=f"Overrides [gateway] {name} and {env_name(name)}.",
        )(wrapped)
    wrapped = click.option(
        "--manifest",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=f"The manifest (default: {MANIFEST_VARIABLE}, else ./migration.toml if present).",
    )(wrapped)
    return wrapped  # type: ignore[return-value]


ConfigArgs = tuple[Path | None, dict[str, Any]]


def _config(config_args: ConfigArgs) -> Config:
    manifest, flags = config_args
    try:
        return load_config(manifest, flags=flags)
    except ConfigError as exc:
        raise click.ClickException("invalid configuration:\n" + str(exc)) from exc


def _load_all(config: Config) -> tuple[Any, Any]:
    """Load everything start-up loads: the apps, the error renderer, the sticky key."""
    legacy = load_legacy(config)
    v2 = load_v2(config)
    load_errors(config)
    load_sticky(config)
    return legacy, v2


def _checked(config: Config) -> tuple[Any, Any]:
    try:
        return _load_all(config)
    except ConfigError as exc:
        raise click.ClickException("invalid configuration:\n" + str(exc)) from exc


def _records_url(config: Config, legacy: Any) -> str:
    try:
        return records_database(config, legacy).render_as_string(hide_password=False)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _upgrade(url: str) -> None:
    migrate.upgrade(url)
    click.echo(f"Gateway records in {shown(url)} are at revision {migrate.current_revision(url)}.")


@click.group()
def main() -> None:
    """Incremental Flask-to-FastAPI migration gateway."""


@main.group()
def db() -> None:
    """The gateway's own records (its tables, migrations and version table)."""


@db.command("upgrade")
@config_options
def db_upgrade(config_args: ConfigArgs) -> None:
    """Create or upgrade the gateway's tables; the application's schema is not touched."""
    config = _config(config_args)
    legacy, _v2 = _checked(config)
    _upgrade(_records_url(config, legacy))


def _export(config_args: ConfigArgs) -> None:
    """Hand the configuration to uvicorn's workers, which read ``GATEWAY_*``."""
    manifest, flags = config_args
    if manifest is not None:
        os.environ[MANIFEST_VARIABLE] = str(manifest.resolve())
    for name, value in flags.items():
        if value is not None:
            os.environ[env_name(name)] = str(value)


@main.command()
@config_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="uvicorn worker processes.",
)
def serve(config_args: ConfigArgs, host: str, port: int, workers: int) -> None:
    """Check the configuration, upgrade the gateway's records, then serve with uvicorn."""
    config = _config(config_args)
    legacy, _v2 = _checked(config)  # a bad configuration stops here, before any worker
    # Once, here, before any worker starts: workers never race to migrate.
    _upgrade(_records_url(config, legacy))
    _export(config_args)
    # Workers (and the guarded protocol in each) read the server options from here.
    os.environ[SERVER_VARIABLE] = config.options.server.model_dump_json()
    # uvicorn's "auto" loop picks uvloop when it is installed; the protocol is httptools'.
    uvicorn.run(
        "gateway.asgi:app",
        host=host,
        port=port,
        workers=workers,
        **uvicorn_settings(config.options.server),
    )


@main.group()
def manifest() -> None:
    """The migration manifest."""


@manifest.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path, dir_okay=False))
def manifest_check(path: Path | None) -> None:
    """Validate a manifest and load what it names; exit 1 with every problem and its line."""
    try:
        config = load_config(path)
        _load_all(config)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise SystemExit(1) from exc
    states = ", ".join(f"{m.name}={m.state}" for m in config.manifest.modules)
    click.echo(f"{config.manifest.source}: {len(config.manifest.modules)} modules ok ({states})")


def _table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@main.command()
@config_options
def routes(config_args: ConfigArgs) -> None:
    """Every route, with its module, state and who serves it."""
    config = _config(config_args)
    legacy, v2 = _checked(config)
    if not isinstance(legacy, Flask):
        raise click.ClickException("the legacy app is not a Flask app: it has no url map to list")
    table = [("METHODS", "PATH", "MODULE", "STATE", "SERVED BY")]
    table += [
        (r.methods, r.path, r.module, r.state, r.served_by) for r in legacy_routes(legacy, config)
    ]
    table += [(m, p, "-", "-", "v2") for m, p in v2_operations(v2, config.options.v2_prefix)]
    _table(table)


@main.command()
@config_options
@click.option("--top", default=5, show_default=True, type=click.IntRange(min=1))
def parity(config_args: ConfigArgs, top: int) -> None:
    """Shadow evidence per module: comparisons, match rate, drops, frequent mismatches."""
    config = _config(config_args)
    legacy, _v2 = _checked(config)
    url = _records_url(config, legacy)
    migrate.upgrade(url)  # the records may be newer than the database
    store = RecordStore(url)
    try:
        with store.session() as session:
            modules = [m.name for m in config.manifest.modules]
            report = shadow_parity(session, modules, top=top)
    finally:
        store.engine.dispose()
    for entry in report:
        rate = "-" if entry.match_rate is None else f"{entry.match_rate:.1%}"
        state = config.manifest.module(entry.module).state
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


@main.command()
@click.option("--legacy", "legacy", required=True, help="The legacy Flask app: 'module:app'.")
@click.option("--v2", "v2", default=None, help="The v2 app, if there is one yet.")
@click.option(
    "--output",
    "-o",
    default=Path("migration.toml"),
    show_default=True,
    type=click.Path(path_type=Path, dir_okay=False),
)
def init(legacy: str, v2: str | None, output: Path) -> None:
    """Write a starter manifest: a module per blueprint, every one in state legacy."""
    prepend_python_path(Path.cwd(), [])
    try:
        app = load(legacy, accept=is_wsgi, kind="a WSGI application", default_names=LEGACY_NAMES)
    except ImportStringError as exc:
        raise click.ClickException(f"--legacy {legacy!r}: {exc.reason}") from exc
    if not isinstance(app, Flask):
        raise click.ClickException(f"--legacy {legacy!r}: not a Flask app; no url map to read")
    text = starter_manifest(app, legacy=legacy, v2=v2)
    try:
        with output.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError as exc:
        raise click.ClickException(f"{output} exists; not overwritten") from exc
    count = text.count("[[module]]")
    click.echo(
        f"Wrote {output}: {count} modules, all in state legacy. Check it with "
        f"`gateway manifest check {output}`."
    )


if __name__ == "__main__":  # python -m gateway.cli
    main()
