"""``gateway routes``: every route of both sides, with its module, state and who serves it."""

from __future__ import annotations

from dataclasses import dataclass

import click

from gateway.cli.common import ConfigArgs, config_options, echo_table, load_everything, read_config
from gateway.config.configuration import Config
from gateway.config.manifest import Module, State
from gateway.mounts.sides import LegacySide, V2Side


@dataclass(frozen=True, slots=True)
class RouteRow:
    methods: str
    path: str
    module: str
    state: str
    served_by: str


def served_by(module: Module | None, config: Config, path: str) -> str:
    if module is None or module.state is State.legacy:
        return "legacy"
    v2_path = config.options.v2_prefix + module.v2_path(path)
    if module.state is State.shadow:
        return f"legacy (replayed to v2 {v2_path} at {module.shadow_sample_rate:.0%})"
    if module.state is State.canary:
        return f"v2 {v2_path} for {module.canary_percent}% of users, legacy for the rest"
    return f"v2 {v2_path}"


def legacy_routes(legacy: LegacySide, config: Config) -> list[RouteRow]:
    rows = []
    for route in legacy.routes:
        module = config.manifest.module_for(route.sample)
        rows.append(
            RouteRow(
                methods=",".join(sorted(route.methods)),
                path=config.options.legacy_prefix + route.path,
                module=module.name if module else "-",
                state=str(module.state) if module else "legacy",
                served_by=served_by(module, config, route.path),
            )
        )
    return rows


def v2_routes(v2: V2Side | None, config: Config) -> list[RouteRow]:
    if v2 is None:
        return []
    prefix = config.options.v2_prefix
    return [
        RouteRow(method, prefix + route.path, "-", "-", "v2")
        for route in v2.routes
        for method in sorted(route.methods)
    ]


@click.command()
@config_options
def routes(config_args: ConfigArgs) -> None:
    """Every route, with its module, state and who serves it."""
    config = read_config(config_args)
    sides = load_everything(config)
    if sides.legacy.flask is None:
        raise click.ClickException("the legacy app is not a Flask app: it has no url map to list")
    table = [("METHODS", "PATH", "MODULE", "STATE", "SERVED BY")]
    rows = legacy_routes(sides.legacy, config) + v2_routes(sides.v2, config)
    table += [(r.methods, r.path, r.module, r.state, r.served_by) for r in rows]
    echo_table(table)
