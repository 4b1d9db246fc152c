"""``gateway init``: write a starter manifest for a Flask app, read from its url map."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.starter import starter_manifest
from gateway.config.importing import ImportStringError
from gateway.config.loading import load_legacy_target
from gateway.config.options import GatewayOptions
from gateway.edge.problems import problem
from gateway.mounts.sides import LegacySide


@click.command()
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
    try:
        side = LegacySide(load_legacy_target(legacy), options=GatewayOptions(), errors=problem)
    except ImportStringError as exc:
        raise click.ClickException(f"--legacy {legacy!r}: {exc.reason}") from exc
    if side.flask is None:
        raise click.ClickException(f"--legacy {legacy!r}: not a Flask app; no url map to read")
    text = starter_manifest(side.flask, legacy=legacy, v2=v2)
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
