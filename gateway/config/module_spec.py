"""One ``[[module]]`` table checked whole: every problem it has, each with its line.

Each field is checked on its own (each path pattern and ignore rule too), and the checks that
relate fields (a canary needs a percent, a ``v2_paths`` key must be one of the paths) run on
every field that is itself valid, so one edit-and-check round shows everything to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from gateway.config.gates import AutoRollback, Gates
from gateway.config.ignore_rules import rule_problem
from gateway.config.noise_rules import NoiseRule, parse_noise
from gateway.config.patterns import overlapping, pattern_problem, template_problem

# The methods a route kept on legacy may name (HEAD and OPTIONS follow GET and the path).
KEEPABLE_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class State(StrEnum):
    legacy = "legacy"
    shadow = "shadow"
    canary = "canary"
    v2 = "v2"


def _valid(check: Callable[[str], str | None]) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if problem := check(value):
            raise ValueError(problem)
        return value

    return validate


def _path_problem(pattern: str) -> str | None:
    problem = pattern_problem(pattern)
    return f"path {pattern!r}: {problem}" if problem else None


def split_route(route: str) -> tuple[str, str]:
    """``"DELETE /api/token"`` as its method and its path pattern."""
    method, _, pattern = route.strip().partition(" ")
    return method, pattern.strip()


def _route_problem(route: str) -> str | None:
    method, pattern = split_route(route)
    if method not in KEEPABLE_METHODS or not pattern:
        methods = ", ".join(sorted(KEEPABLE_METHODS))
        return f"{route!r}: must be 'METHOD /path' with METHOD one of {methods}"
    problem = pattern_problem(pattern)
    return f"{route!r}: {problem}" if problem else None


def _noise_rules(table: Any) -> tuple[NoiseRule, ...]:
    """The ``[module.noise]`` table as its rules, every problem of it in one message."""
    if not isinstance(table, dict):
        raise ValueError("must be a table of JSON path = kind")
    rules, problems = [], []
    for path, kind in table.items():
        try:
            rules.append(parse_noise(path, kind))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(rules)


PathPattern = Annotated[str, AfterValidator(_valid(_path_problem))]
KeptRoute = Annotated[str, AfterValidator(_valid(_route_problem))]
IgnoreRule = Annotated[str, AfterValidator(_valid(rule_problem))]


_COLUMN = r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$"


class ModuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    paths: list[PathPattern] = Field(min_length=1)
    state: State = State.legacy
    canary_percent: int = Field(default=0, ge=0, le=100)
    shadow_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # When the module's v2 successor was announced; legacy answers then say so (RFC 9745).
    deprecated: date | None = None
    sunset: date | None = None
    ignore: list[IgnoreRule] = Field(default_factory=list)
    # Paths whose values vary run to run, by kind ([module.noise]; see noise_rules).
    noise: Annotated[tuple[NoiseRule, ...], BeforeValidator(_noise_rules)] = ()
    v2_paths: dict[str, str] = Field(default_factory=dict)
    # Routes v2 does not serve: legacy answers them whatever the module's state.
    keep_on_legacy: list[KeptRoute] = Field(default_factory=list)
    gates: Gates = Field(default_factory=Gates)
    rollback: AutoRollback | None = None
    # Writes sampled too (at shadow_sample_rate): v2 first, in a rolled-back transaction.
    shadow_writes: bool = False
    # Columns whose written values may differ ("table.column": a salted hash, a random token).
    write_ignore: list[Annotated[str, Field(pattern=_COLUMN)]] = Field(default_factory=list)


# Stand-ins for required fields that failed, so the other fields are still checked.
_STAND_INS: dict[str, Any] = {"name": "x", "paths": ["/"]}


def _cross_problems(spec: ModuleSpec, failed: set[str]) -> list[tuple[str, str]]:
    """(field, problem) for the checks that relate fields, on the fields that are valid."""
    found: list[tuple[str, str]] = []
    if "paths" not in failed and "v2_paths" not in failed:
        for pattern, template in spec.v2_paths.items():
            if pattern not in spec.paths:
                found.append(("v2_paths", f"key {pattern!r} is not one of the module's paths"))
            elif problem := template_problem(pattern, template):
                found.append(("v2_paths", f"{pattern!r}: {problem}"))
    if not failed & {"paths", "keep_on_legacy"}:
        for route in spec.keep_on_legacy:
            _method, pattern = split_route(route)
            if not any(overlapping(pattern, path) for path in spec.paths):
                found.append(("keep_on_legacy", f"{route!r} is not within the module's paths"))
    unchecked = failed & {"state", "canary_percent"}
    if not unchecked and spec.state is State.canary and spec.canary_percent == 0:
        found.append(("canary_percent", "state canary needs canary_percent between 1 and 100"))
    unchecked = failed & {"state", "shadow_sample_rate"}
    if not unchecked and spec.state is State.shadow and spec.shadow_sample_rate == 0:
        found.append(("shadow_sample_rate", "state shadow needs shadow_sample_rate above 0"))
    sunset = spec.sunset if not failed & {"deprecated", "sunset"} else None
    if sunset is not None and (spec.deprecated is None or sunset <= spec.deprecated):
        found.append(("sunset", "a sunset needs an earlier deprecated date"))
    return found


def check_module(raw: Any) -> tuple[ModuleSpec | None, list[tuple[str | None, str]]]:
    """The module's spec (None when anything is wrong) and every (field, problem) it has."""
    if not isinstance(raw, dict):
        return None, [(None, "must be a table")]
    problems: list[tuple[str | None, str]] = []
    failed: set[str] = set()
    try:
        spec = ModuleSpec.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else None
            failed.add(field or "")
            problems.append((field, str(error["msg"]).removeprefix("Value error, ")))
        kept = {key: value for key, value in raw.items() if key not in failed}
        try:
            spec = ModuleSpec.model_validate({**_STAND_INS, **kept})
        except ValidationError:  # a field valid alone but not beside the stand-ins
            return None, problems
    problems.extend(_cross_problems(spec, failed))
    return (None if problems else spec), problems
