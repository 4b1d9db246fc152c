"""The ``gateway`` command: migrate the database, seed demo data, serve the app.

Settings come from the ``GATEWAY_*`` environment, as for the app itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click
import uvicorn
from pydantic import ValidationError

import legacy_flask
import v2
from gateway.manifest import DEFAULT_MANIFEST, Manifest, ManifestError, load_manifest
from gateway.reports import legacy_routes
from gateway.reports import parity as shadow_parity
from shared import demo as demo_data
from shared import migrate
from shared.db import Database, sync_url
from shared.settings import Environment, Settings, get_settings


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid GATEWAY_* settings:\n{exc}") from exc


def _database_name(settings: Settings) -> str:
    return sync_url(settings.database.url).render_as_string(hide_password=True)


def _upgrade(settings: Settings) -> None:
    migrate.upgrade(settings)
    revision = migrate.current_revision(settings)
    click.echo(f"Database {_database_name(settings)} is at revision {revision}.")


def _seed(settings: Settings) -> None:
    if settings.environment is Environment.production:
        raise click.ClickException("demo data has known passwords: refused in production")
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


@click.group()
def main() -> None:
    """Incremental Flask-to-FastAPI migration gateway (Conduit)."""


@main.group()
def db() -> None:
    """The database schema, managed by Alembic migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all pending migrations to the configured database."""
    _upgrade(_settings())


@main.command()
def demo() -> None:
    """Apply migrations, then add demo data if the database has no users yet."""
    settings = _settings()
    _upgrade(settings)
    _seed(settings)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--demo/--no-demo",
    "with_demo",
    default=False,
    show_default=True,
    help="Add demo data to an empty database before serving.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="uvicorn worker processes.",
)
def serve(host: str, port: int, with_demo: bool, workers: int) -> None:
    """Apply migrations (and seed demo data), then serve gateway.asgi:app with uvicorn."""
    settings = _settings()
    _manifest(settings)  # a bad manifest stops here, with its lines, before any worker starts
    # Once, here, before any worker starts: workers never race to migrate.
    _upgrade(settings)
    if with_demo:
        _seed(settings)
    # uvicorn's "auto" loop and http pick uvloop and httptools when they are installed.
    uvicorn.run("gateway.asgi:app", host=host, port=port, workers=workers)


@main.group()
def manifest() -> None:
    """The migration manifest (migration.toml, or GATEWAY_MANIFEST)."""


@manifest.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def manifest_check(path: Path | None) -> None:
    """Validate a manifest; exit non-zero with every problem and its line."""
    path = path or _settings().manifest or DEFAULT_MANIFEST
    try:
        loaded = load_manifest(path)
    except ManifestError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise SystemExit(1) from exc
    states = ", ".join(f"{m.name}={m.state}" for m in loaded.modules)
    click.echo(f"{path}: {len(loaded.modules)} modules ok ({states})")


def _manifest(settings: Settings) -> Manifest:
    try:
        return load_manifest(settings.manifest or DEFAULT_MANIFEST)
    except ManifestError as exc:
        raise click.ClickException(f"invalid manifest:\n{exc}") from exc


def _table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@main.command()
def routes() -> None:
    """Every route, with its module, state and who serves it."""
    settings = _settings()
    manifest = _manifest(settings)
    legacy = legacy_flask.create_app(settings)
    table = [("METHODS", "PATH", "MODULE", "STATE", "SERVED BY")]
    table += [
        (r.methods, r.path, r.module, r.state, r.served_by) for r in legacy_routes(legacy, manifest)
    ]
    table += [(method, path, "-", "-", "v2") for method, path in v2.operations()]
    _table(table)


@main.command()
@click.option("--top", default=5, show_default=True, type=click.IntRange(min=1))
def parity(top: int) -> None:
    """Shadow evidence per module: comparisons, match rate, drops, frequent mismatches."""
    settings = _settings()
    manifest = _manifest(settings)
    migrate.upgrade(settings)  # the parity tables may be newer than the database
    database = Database(settings.database)
    try:
        with database.session(write=False) as session:
            report = shadow_parity(session, [m.name for m in manifest.modules], top=top)
    finally:
        database.dispose()
    for entry in report:
        rate = "-" if entry.match_rate is None else f"{entry.match_rate:.1%}"
        state = manifest.module(entry.module).state
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


if __name__ == "__main__":  # python -m gateway.cli
    main()
