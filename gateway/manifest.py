"""The migration manifest: which code serves each module of the legacy API.

A TOML file of ``[[module]]`` tables. Each module owns some legacy path patterns (relative to
the ``/legacy`` mount; ``*`` is one path segment, a final ``**`` any number of them) and is in
one state: ``legacy`` (Flask answers), ``shadow`` (Flask answers, a sample of safe requests is
replayed to v2 and compared), ``canary`` (a sticky share of requests goes to v2) or ``v2``.

The file is validated whole when it is loaded; every problem is reported with its line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.parity import rule_problem

# The manifest that ships with the project: every Conduit module, in state legacy.
DEFAULT_MANIFEST = Path(__file__).resolve().parents[1] / "migration.toml"

_SEGMENT = re.compile(r"[A-Za-z0-9._~\-]+|\*|\*\*")


class State(StrEnum):
    legacy = "legacy"
    shadow = "shadow"
    canary = "canary"
    v2 = "v2"


class ManifestError(ValueError):
    """Everything wrong with a manifest, one ``source:line: problem`` per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


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


def _pattern_problem(pattern: str) -> str | None:
    if not pattern.startswith("/"):
        return "must start with '/'"
    segments = pattern[1:].split("/")
    for i, segment in enumerate(segments):
        if not _SEGMENT.fullmatch(segment):
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

    def owns(self, path: str) -> bool:
        """Whether ``path`` (relative to the legacy mount) belongs to this module."""
        return any(_matches(_segments(p), _segments(path)) for p in self.paths)


@dataclass(frozen=True, slots=True)
class Manifest:
    modules: tuple[Module, ...]
    source: str

    def module_for(self, path: str) -> Module | None:
        return next((m for m in self.modules if m.owns(path)), None)

    def module(self, name: str) -> Module:
        return next(m for m in self.modules if m.name == name)


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def _matches(pattern: list[str], path: list[str]) -> bool:
    if pattern and pattern[0] == "**":
        return True
    if not pattern or not path:
        return not pattern and not path
    return pattern[0] in ("*", path[0]) and _matches(pattern[1:], path[1:])


def _overlap(a: list[str], b: list[str]) -> bool:
    """Whether some path matches both patterns."""
    if (a and a[0] == "**") or (b and b[0] == "**"):
        return True
    if not a or not b:
        return not a and not b
    return (a[0] == b[0] or "*" in (a[0], b[0])) and _overlap(a[1:], b[1:])


class _Lines:
    """Finds the line of a module's table, or of one key in it, in the raw TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [
            i + 1 for i, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*module\s*\]\]", line)
        ]

    def of(self, index: int, key: str | None = None) -> int:
        if index >= len(self.headers):
            return 1
        start = self.headers[index]
        end = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines) + 1
        if key is not None:
            for number in range(start + 1, end):
                if re.match(rf"\s*{re.escape(key)}\s*=", self.lines[number - 1]):
                    return number
        return start


def parse_manifest(text: str, *, source: str = "migration.toml") -> Manifest:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError([f"{source}: not valid TOML: {exc}"]) from exc
    lines = _Lines(text)
    problems: list[str] = []
    unknown = sorted(set(data) - {"module"})
    if unknown:
        problems.append(f"{source}:1: unknown top-level key(s) {', '.join(unknown)}")
    raw_modules = data.get("module", [])
    if not isinstance(raw_modules, list) or not raw_modules:
        raise ManifestError([*problems, f"{source}:1: no [[module]] tables"])

    modules: list[Module] = []
    for index, raw in enumerate(raw_modules):
        module = _module(raw, index, lines, source, problems)
        if module is not None:
            modules.append(module)
    problems.extend(_conflicts(modules, source))
    if problems:
        raise ManifestError(problems)
    return Manifest(modules=tuple(modules), source=source)


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
        raise ManifestError([f"{path}: cannot read: {exc.strerror}"]) from exc
    return parse_manifest(text, source=str(path))
