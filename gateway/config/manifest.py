"""The migration manifest: which code serves each module of the legacy API.

A TOML file with an optional ``[gateway]`` table (the options, see
:mod:`gateway.config.options`) and ``[[module]]`` tables. Each module owns some legacy path
patterns (:mod:`gateway.config.patterns`) and is in one state: ``legacy`` (the legacy app
answers), ``shadow`` (legacy answers, a sample of safe requests is replayed to v2 and
compared), ``canary`` (a sticky share of requests goes to v2) or ``v2``. A module's legacy
path maps to the same path under the v2 prefix unless its ``v2_paths`` table says otherwise:
``"/api/articles/*" = "/api/posts/{1}"``. Routes v2 does not serve are listed under
``keep_on_legacy = ["DELETE /api/token"]``: legacy answers them in every state.

The file is validated whole when it is loaded; every problem is reported with its line.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gateway.config.errors import ConfigError
from gateway.config.gates import AutoRollback, Gates
from gateway.config.module_spec import ModuleSpec, State, check_module, split_route
from gateway.config.noise_rules import NoiseRule
from gateway.config.patterns import captures, fill, overlapping, pattern_segments, segments
from gateway.config.toml_lines import TomlLines

__all__ = ["DEFAULT_MANIFEST", "Manifest", "Module", "State", "load_manifest", "parse_manifest"]

# Looked for in the working directory when no manifest is named.
DEFAULT_MANIFEST = Path("migration.toml")


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    paths: tuple[str, ...]
    state: State
    canary_percent: int
    shadow_sample_rate: float
    deprecated: date | None
    sunset: date | None
    ignore: tuple[str, ...]
    line: int
    v2_paths: tuple[tuple[str, str], ...] = ()
    # (method, pattern) of each route kept on legacy, as written in keep_on_legacy.
    kept: tuple[tuple[str, str], ...] = ()
    gates: Gates = field(default_factory=Gates)
    rollback: AutoRollback | None = None
    noise: tuple[NoiseRule, ...] = ()
    shadow_writes: bool = False
    write_ignore: tuple[str, ...] = ()

    def matches(self, path_segments: list[str]) -> bool:
        return any(captures(pattern_segments(p), path_segments) is not None for p in self.paths)

    def keeps(self, method: str, path: str) -> bool:
        """Whether legacy answers ``method path`` in every state: HEAD follows GET, and
        OPTIONS (whose ``Allow`` lists every method) any kept method of the path."""
        if not self.kept:
            return False
        path_segments = segments(path)
        return any(
            captures(pattern_segments(pattern), path_segments) is not None
            for kept, pattern in self.kept
            if method in (kept, "OPTIONS") or (method == "HEAD" and kept == "GET")
        )

    def v2_path(self, path: str) -> str:
        """Where ``path`` (relative to the legacy prefix) lives on v2, relative to its prefix."""
        for pattern, template in self.v2_paths:
            captured = captures(pattern_segments(pattern), segments(path))
            if captured is not None:
                return fill(template, captured)
        return path


@dataclass(frozen=True, slots=True)
class Manifest:
    modules: tuple[Module, ...] = ()
    source: str = "(no manifest)"
    # The raw [gateway] table and, per option, "file:line"; validated by configure().
    options: dict[str, Any] = field(default_factory=dict)
    option_lines: dict[str, str] = field(default_factory=dict)
    # Relative python_path entries are relative to this folder.
    directory: Path | None = None

    def module_for(self, path: str) -> Module | None:
        path_segments = segments(path)  # once per request, whatever the number of modules
        return next((m for m in self.modules if m.matches(path_segments)), None)

    def module(self, name: str) -> Module:
        return next(m for m in self.modules if m.name == name)


def parse_manifest(
    text: str, *, source: str = "migration.toml", directory: Path | None = None
) -> Manifest:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from exc
    lines = TomlLines(text)
    problems: list[str] = []
    unknown = sorted(set(data) - {"module", "gateway"})
    if unknown:
        problems.append(f"{source}:1: unknown top-level key(s) {', '.join(unknown)}")
    options = data.get("gateway", {})
    if not isinstance(options, dict):
        problems.append(f"{source}:{lines.of_option()}: 'gateway' must be a table")
        options = {}
    raw_modules = data.get("module", [])
    if not isinstance(raw_modules, list) or (not raw_modules and "gateway" not in data):
        raise ConfigError(
            [*problems, f"{source}:1: neither a [gateway] table nor [[module]] tables"]
        )
    modules: list[Module] = []
    for index, raw in enumerate(raw_modules):
        spec, found = check_module(raw)
        label = f"module {raw.get('name', index + 1) if isinstance(raw, dict) else index + 1}"
        for key, message in found:
            field_name = f" {key}" if key else ""
            problems.append(
                f"{source}:{lines.of_module(index, key)}: {label}{field_name}: {message}"
            )
        if spec is not None:
            modules.append(_module(spec, lines.of_module(index)))
    problems.extend(_conflicts(modules, source))
    if problems:
        raise ConfigError(problems)
    return Manifest(
        modules=tuple(modules),
        source=source,
        options=options,
        option_lines={key: f"{source}:{lines.of_option(key)}" for key in options},
        directory=directory,
    )


def _module(spec: ModuleSpec, line: int) -> Module:
    return Module(
        name=spec.name,
        paths=tuple(spec.paths),
        state=spec.state,
        canary_percent=spec.canary_percent,
        shadow_sample_rate=spec.shadow_sample_rate,
        deprecated=spec.deprecated,
        sunset=spec.sunset,
        ignore=tuple(spec.ignore),
        line=line,
        v2_paths=tuple(spec.v2_paths.items()),
        kept=tuple(split_route(route) for route in spec.keep_on_legacy),
        gates=spec.gates,
        rollback=spec.rollback,
        noise=spec.noise,
        shadow_writes=spec.shadow_writes,
        write_ignore=tuple(spec.write_ignore),
    )


def _conflicts(modules: Sequence[Module], source: str) -> list[str]:
    problems = []
    seen: dict[str, Module] = {}
    for module in modules:
        if module.name in seen:
            problems.append(
                f"{source}:{module.line}: module name {module.name!r} is already used "
                f"at line {seen[module.name].line}"
            )
        seen.setdefault(module.name, module)
    for i, first in enumerate(modules):
        for second in modules[i + 1 :]:
            for a in first.paths:
                for b in second.paths:
                    if overlapping(a, b):
                        problems.append(
                            f"{source}:{second.line}: module {second.name} path {b!r} overlaps "
                            f"{a!r} of module {first.name} (line {first.line})"
                        )
    return problems


def load_manifest(path: Path) -> Manifest:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from exc
    return parse_manifest(text, source=str(path), directory=path.resolve().parent)
