"""The migration manifest: which code serves each module of the legacy API.

A TOML file with an optional ``[gateway]`` table (the options, see :mod:`gateway.options`)
and ``[[module]]`` tables. Each module owns some legacy path patterns (relative to the legacy
prefix; ``*`` is one path segment, a final ``**`` any number of them) and is in one state:
``legacy`` (the legacy app answers), ``shadow`` (legacy answers, a sample of safe requests is
replayed to v2 and compared), ``canary`` (a sticky share of requests goes to v2) or ``v2``.
A module's legacy path maps to the same path under the v2 prefix unless its ``v2_paths``
table says otherwise: ``"/api/articles/*" = "/api/posts/{1}"`` (``{n}`` is the n-th ``*``,
``{**}`` what a final ``**`` matched).

The file is validated whole when it is loaded; every problem is reported with its line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.errors import ConfigError
from gateway.shadow.compare import rule_problem

# Looked for in the working directory when no manifest is named.
DEFAULT_MANIFEST = Path("migration.toml")

SEGMENT = re.compile(r"[A-Za-z0-9._~\-]+|\*|\*\*")
_PLACEHOLDER = re.compile(r"\{(\d+|\*\*)\}")


class State(StrEnum):
    legacy = "legacy"
    shadow = "shadow"
    canary = "canary"
    v2 = "v2"


# Kept under its old name: a manifest's problems are configuration problems.
ManifestError = ConfigError


class _ModuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    paths: list[str] = Field(min_length=1)
    state: State = State.legacy
    canary_percent: int = Field(default=0, ge=0, le=100)
    shadow_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # When the module's v2 successor was announced; legacy answers then say so (RFC 9745).
    deprecated: date | None = None
    sunset: date | None = None
    ignore: list[str] = Field(default_factory=list)
    v2_paths: dict[str, str] = Field(default_factory=dict)

    @field_validator("ignore")
    @classmethod
    def _rules(cls, rules: list[str]) -> list[str]:
        for rule in rules:
            if problem := rule_problem(rule):
                raise ValueError(problem)
        return rules

    @field_validator("paths")
    @classmethod
    def _patterns(cls, paths: list[str]) -> list[str]:
        for pattern in paths:
            if problem := _pattern_problem(pattern):
                raise ValueError(f"path {pattern!r}: {problem}")
        return paths

    @model_validator(mode="after")
    def _templates(self) -> Self:
        for pattern, template in self.v2_paths.items():
            if pattern not in self.paths:
                raise ValueError(f"v2_paths key {pattern!r} is not one of the module's paths")
            if problem := _template_problem(pattern, template):
                raise ValueError(f"v2_paths {pattern!r}: {problem}")
        return self


def _template_problem(pattern: str, template: str) -> str | None:
    if not template.startswith("/"):
        return "the v2 path must start with '/'"
    segments = pattern.strip("/").split("/")
    stars = segments.count("*")
    for found in _PLACEHOLDER.findall(template):
        if found == "**" and segments[-1] != "**":
            return "{**} needs a pattern that ends with '**'"
        if found != "**" and not 1 <= int(found) <= stars:
            return f"{{{found}}} but the pattern has {stars} '*' segment(s)"
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        return "placeholders are {1}, {2}, ... and {**}"
    return None


def _pattern_problem(pattern: str) -> str | None:
    if not pattern.startswith("/"):
        return "must start with '/'"
    if pattern == "/":
        return None
    segments = pattern[1:].split("/")
    for i, segment in enumerate(segments):
        if not SEGMENT.fullmatch(segment):
            return f"segment {segment!r} is neither a name, '*' nor '**'"
        if segment == "**" and i != len(segments) - 1:
            return "'**' may only end a pattern"
    return None


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

    def owns(self, path: str) -> bool:
        """Whether ``path`` (relative to the legacy prefix) belongs to this module."""
        return self._owns(_segments(path))

    def _owns(self, segments: list[str]) -> bool:
        return any(_captures(_pattern(p), segments) is not None for p in self.paths)

    def v2_path(self, path: str) -> str:
        """Where ``path`` (relative to the legacy prefix) lives on v2, relative to its prefix."""
        for pattern, template in self.v2_paths:
            captured = _captures(_pattern(pattern), _segments(path))
            if captured is not None:
                return _fill(template, captured)
        return path


@dataclass(frozen=True, slots=True)
class Manifest:
    modules: tuple[Module, ...] = ()
    source: str = "(no manifest)"
    # The raw [gateway] table and, per option, "file:line"; validated in gateway.config.
    options: dict[str, Any] = field(default_factory=dict)
    option_lines: dict[str, str] = field(default_factory=dict)
    # Relative python_path entries are relative to this folder.
    directory: Path | None = None

    def module_for(self, path: str) -> Module | None:
        segments = _segments(path)  # once per request, whatever the number of modules
        return next((m for m in self.modules if m._owns(segments)), None)

    def module(self, name: str) -> Module:
        return next(m for m in self.modules if m.name == name)


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


@cache
def _pattern(pattern: str) -> list[str]:
    """A manifest pattern's segments: split once, matched against every request's path."""
    return _segments(pattern)


def _captures(pattern: list[str], path: list[str]) -> list[str] | None:
    """What each wildcard of ``pattern`` matched in ``path`` (``**`` last), or None."""
    captured: list[str] = []
    for i, segment in enumerate(pattern):
        if segment == "**":
            return [*captured, "/".join(path[i:])]
        if i >= len(path) or segment not in ("*", path[i]):
            return None
        if segment == "*":
            captured.append(path[i])
    return captured if len(path) == len(pattern) else None


def _fill(template: str, captured: list[str]) -> str:
    def one(match: re.Match[str]) -> str:
        return captured[-1] if match[1] == "**" else captured[int(match[1]) - 1]

    return _PLACEHOLDER.sub(one, template)


def overlapping(a: str, b: str) -> bool:
    """Whether some path matches both patterns."""
    return _overlap(_segments(a), _segments(b))


def _overlap(a: list[str], b: list[str]) -> bool:
    """Whether some path matches both patterns."""
    if (a and a[0] == "**") or (b and b[0] == "**"):
        return True
    if not a or not b:
        return not a and not b
    return (a[0] == b[0] or "*" in (a[0], b[0])) and _overlap(a[1:], b[1:])


class _Lines:
    """Finds the line of a table, or of one key in it, in the raw TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        headers = [
            (i + 1, line.strip())
            for i, line in enumerate(self.lines)
            if re.match(r"\s*\[", line) and not re.match(r"\s*\[\s*module\s*\.", line)
        ]
        self.modules = [(n, self._end(n, headers)) for n, h in headers if _is_module(h)]
        self.gateway = next(
            ((n, self._end(n, headers)) for n, h in headers if re.match(r"\[\s*gateway\s*]", h)),
            None,
        )

    def _end(self, start: int, headers: list[tuple[int, str]]) -> int:
        later = [n for n, h in headers if n > start and not re.match(r"\[\s*gateway\s*\.", h)]
        return later[0] if later else len(self.lines) + 1

    def _find(self, span: tuple[int, int], key: str | None) -> int:
        start, end = span
        if key is not None:
            for number in range(start + 1, end):
                if re.match(rf"\s*{re.escape(key)}\s*=", self.lines[number - 1]):
                    return number
        return start

    def of(self, index: int, key: str | None = None) -> int:
        return self._find(self.modules[index], key) if index < len(self.modules) else 1

    def of_option(self, key: str | None = None) -> int:
        return self._find(self.gateway, key) if self.gateway else 1


def _is_module(header: str) -> bool:
    return re.match(r"\[\[\s*module\s*\]\]", header) is not None


def parse_manifest(
    text: str, *, source: str = "migration.toml", directory: Path | None = None
) -> Manifest:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from exc
    lines = _Lines(text)
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
        module = _module(raw, index, lines, source, problems)
        if module is not None:
            modules.append(module)
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


def _module(
    raw: dict[str, Any], index: int, lines: _Lines, source: str, problems: list[str]
) -> Module | None:
    try:
        spec = _ModuleSpec.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else None
            where = f"{source}:{lines.of(index, key)}"
            label = f"module {raw.get('name', index + 1)!s}"
            field = f" {key}" if key else ""
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {label}{field}: {message}")
        return None
    line = lines.of(index)
    if spec.state is State.canary and spec.canary_percent == 0:
        problems.append(
            f"{source}:{lines.of(index, 'canary_percent')}: module {spec.name}: state canary "
            "needs canary_percent between 1 and 100"
        )
    if spec.state is State.shadow and spec.shadow_sample_rate == 0:
        problems.append(
            f"{source}:{lines.of(index, 'shadow_sample_rate')}: module {spec.name}: state shadow "
            "needs shadow_sample_rate above 0"
        )
    if spec.sunset is not None and (spec.deprecated is None or spec.sunset <= spec.deprecated):
        problems.append(
            f"{source}:{lines.of(index, 'sunset')}: module {spec.name}: a sunset needs an "
            "earlier deprecated date"
        )
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
                    if _overlap(_segments(a), _segments(b)):
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
