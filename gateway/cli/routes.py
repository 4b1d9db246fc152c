"""``gateway routes``: every route of both sides, with its module, its state, whether v2
serves it and who answers it."""

from __future__ import annotations

from dataclasses import dataclass

import click

from gateway.cli.common import ConfigArgs, config_options, echo_table, load_everything, read_config
from gateway.config.configuration import Config
from gateway.config.manifest import State
from gateway.mounts.coverage import RouteCoverage, route_coverage
from gateway.mounts.sides import Sides, V2Side


@dataclass(frozen=True, slots=True)
class RouteRow:
    methods: str
    path: str
    module: str
    state: str
    # Whether v2 serves the route: served, missing, kept on legacy, or "-" (no module).
    on_v2: str
    served_by: str


def served_by(row: RouteCoverage, config: Config) -> str:
    module = row.module
    if module is None or module.state is State.legacy:
        return "legacy"
    if row.kept:
        return "legacy (keep_on_legacy)"
    v2_path = config.options.v2_prefix + module.v2_path(row.path)
    if module.state is State.shadow:
        return f"legacy (replayed to v2 {v2_path} at {module.shadow_sample_rate:.0%})"
    if module.state is State.canary:
        return f"v2 {v2_path} for {module.canary_percent}% of users, legacy for the rest"
    return f"v2 {v2_path}"


def on_v2(row: RouteCoverage) -> str:
    if row.module is None:
        return "-"
    if row.kept:
        return "kept on legacy"
    return {True: "served", False: "missing", None: "unknown"}[row.on_v2]


def legacy_routes(sides: Sides, config: Config) -> list[RouteRow]:
    """A row per legacy rule and method: its module, its state, whether v2 serves it."""
    base = config.options.legacy_base
    return [
        RouteRow(
            methods=row.method,
            path=base + row.path,
            module=row.module.name if row.module else "-",
            state=str(row.module.state) if row.module else "legacy",
            on_v2=on_v2(row),
            served_by=served_by(row, config),
        )
        for row in route_coverage(sides, config.manifest)
    ]


def v2_routes(v2: V2Side | None, config: Config) -> list[RouteRow]:
    if v2 is None:
        return []
    prefix = config.options.v2_prefix
    return [
        RouteRow(method, prefix + route.path, "-", "-", "-", "v2")
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
    table = [("METHOD", "PATH", "MODULE", "STATE", "ON V2", "SERVED BY")]
    rows = legacy_routes(sides, config) + v2_routes(sides.v2, config)
    table += [(r.methods, r.path, r.module, r.state, r.on_v2, r.served_by) for r in rows]
    echo_table(table)
