"""Does v2 serve every route of a module before the module's traffic moves to it?

Both route tables are read: the legacy app's url map, and v2's routes as Starlette would
match them (a Mount's app searched inside). For every legacy rule and method a module's paths
cover, its path after ``v2_paths`` is matched against v2 with that method. A module may go
beyond ``shadow`` (to ``canary`` or ``v2``) only when v2 serves each one, or the module lists
it under ``keep_on_legacy``: otherwise clients would lose it (a 405 or 404 from v2) the
moment the module moves. The same reading says which legacy routes a prefix would hide.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.configuration import Config
from gateway.config.manifest import Manifest, Module, State
from gateway.config.options import GatewayOptions
from gateway.mounts.sides import Sides

# The states in which a module's requests are answered by v2.
ON_V2 = frozenset({State.canary, State.v2})


@dataclass(frozen=True, slots=True)
class RouteCoverage:
    """One legacy rule and method, and whether v2 can take it over."""

    method: str
    # The rule's path in OpenAPI's spelling, relative to the legacy app.
    path: str
    # The rule as a manifest pattern: what keep_on_legacy names it by.
    pattern: str
    module: Module | None
    # Whether v2 serves it; None when v2 has no route table to read (or there is no v2).
    on_v2: bool | None
    kept: bool

    @property
    def keep_line(self) -> str:
        return f"{self.method} {self.pattern}"


def route_coverage(sides: Sides, manifest: Manifest) -> list[RouteCoverage]:
    """Every legacy rule and method, with its module and whether v2 serves it."""
    rows = []
    for route in sides.legacy.routes:
        module = manifest.module_for(route.sample)
        for method in sorted(route.methods):
            on_v2 = None
            if module is not None and sides.v2 is not None:
                on_v2 = sides.v2.serves(method, module.v2_path(route.sample))
            kept = module is not None and module.keeps(method, route.sample)
            rows.append(RouteCoverage(method, route.path, route.pattern, module, on_v2, kept))
    return rows


def coverage_problems(sides: Sides, config: Config) -> list[str]:
    """Why the configured states would take a route away from clients, one line each."""
    options, manifest = config.options, config.manifest
    problems = []
    for row in route_coverage(sides, manifest):
        module = row.module
        if module is None or module.state not in ON_V2 or row.kept or row.on_v2 is not False:
            continue
        v2_path = options.v2_prefix + module.v2_path(row.path)
        problems.append(
            f"{manifest.source}:{module.line}: module {module.name} is in state "
            f"{module.state}, but v2 does not serve {row.method} {v2_path} (legacy "
            f"{row.method} {options.legacy_base}{row.path}): add it to v2, or list "
            f'"{row.keep_line}" under keep_on_legacy'
        )
    return problems + hidden_routes(sides, options)


def hidden_routes(sides: Sides, options: GatewayOptions) -> list[str]:
    """Legacy routes no client could reach: under v2's prefix or the gateway's own, with the
    legacy app at the root."""
    if options.legacy_base:
        return []
    prefixes = options.prefixes
    names = {"v2": ("v2_prefix", prefixes.v2), "gateway": ("gateway_prefix", prefixes.own)}
    problems = []
    for route in sides.legacy.routes:
        side = prefixes.side(route.sample)
        if side in names:
            name, prefix = names[side]
            problems.append(
                f"the legacy route {route.path} is hidden by {name} {prefix!r} with the "
                f"legacy app at the root: choose another {name}"
            )
    return problems
