"""``gateway manifest check``: the manifest and everything it names, every problem at once."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.common import load_checked, reported
from gateway.config.configuration import load_config


@click.group()
def manifest() -> None:
    """The migration manifest."""


@manifest.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path, dir_okay=False))
def manifest_check(path: Path | None) -> None:
    """Validate a manifest and load what it names; exit 1 with every problem and its line,
    a route v2 lacks in a module beyond shadow included."""
    with reported():
        config = load_config(path)
    load_checked(config)
    states = ", ".join(f"{m.name}={m.state}" for m in config.manifest.modules)
    click.echo(f"{config.manifest.source}: {len(config.manifest.modules)} modules ok ({states})")
