"""Generated checks, before any traffic: requests made from v2's OpenAPI by Schemathesis, each
sent to both sides in this process and compared as the shadow compares them.

For each operation of v2 that a module moves (its path mapped back to the legacy path the
module owns, routes kept on legacy aside), Hypothesis draws requests from the operation's
schema; both apps answer each one, and the first difference is shrunk by Hypothesis to a
minimal request.

Reads go first. Every value their answers hold is kept by its key, and a path parameter of a
later operation is drawn from the values kept under its name (``slug``; ``id`` for
``note_id``) as well as from its schema: writes then reach the real objects of the database
the check runs on, not only the 404 of a random id. Writes are answered by each side in a
sandbox, rolled back (:mod:`gateway.shadow.both_sides`), and their write sets compared; the
first write that escapes a sandbox (a commit elsewhere) stops the sending of writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.config.configuration import Config
from gateway.config.manifest import Module
from gateway.config.patterns import captures, pattern_segments, segments
from gateway.mounts.sides import Sides
from gateway.shadow.both_sides import Asked, BothSides
from gateway.shadow.capture import SAFE_METHODS
from gateway.shadow.compare import Verdict, compare
from gateway.shadow.write_sets import with_writes

_PLACEHOLDER = re.compile(r"\{(\d+|\*\*)\}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One operation's check: how many requests were sent, and the minimal difference."""

    operation: str
    sent: int
    request: str | None = None  # the minimal request that differed
    verdict: Verdict | None = None
    skipped: str | None = None
    escaped: str | None = None  # a write escaped a sandbox: writes are no longer sent


def legacy_path(module: Module, v2_path: str) -> str | None:
    """The legacy path (under the module) that v2 serves at ``v2_path``; None if none."""
    if not module.v2_paths:
        return v2_path if module.matches(segments(v2_path)) else None
    for pattern, template in module.v2_paths:
        as_pattern = _PLACEHOLDER.sub(lambda m: "**" if m[1] == "**" else "*", template)
        captured = captures(pattern_segments(as_pattern), segments(v2_path))
        if captured is None:
            continue
        order = _PLACEHOLDER.findall(template)
        by_wildcard = dict(zip(order, captured, strict=True))
        wildcards = iter(range(1, len(order) + 1))
        rebuilt = [
            by_wildcard["**" if part == "**" else str(next(wildcards))]
            if part in ("*", "**")
            else part
            for part in pattern_segments(pattern)
        ]
        return "/" + "/".join(rebuilt)
    return None


class Seen:
    """The values the answers held, by key: where path parameters are drawn from."""

    def __init__(self) -> None:
        self.values: dict[str, set[str]] = {}

    def keep(self, document: Any) -> None:
        if isinstance(document, dict):
            for key, value in document.items():
                if isinstance(value, str | int) and not isinstance(value, bool):
                    self.values.setdefault(key, set()).add(str(value))
                else:
                    self.keep(value)
        elif isinstance(document, list):
            for item in document:
                self.keep(item)

    def for_parameter(self, name: str) -> list[str]:
        """``slug`` -> the slugs seen; ``note_id`` or ``noteId`` -> the ids seen."""
        if name in self.values:
            return sorted(self.values[name])[:_KEPT]
        if _ID.search(name):
            return sorted(self.values.get("id", set()))[:_KEPT]
        return []


# Requests sent to shrink a difference, past the one that found it: a write's request pair
# costs two sandboxes, and Hypothesis would try hundreds of smaller candidates.
SHRINK_REQUESTS = 60
# How many seen values a parameter is drawn from; a suffix that names an id.
_KEPT = 50
_ID = re.compile(r"(_id|Id)$")


def check_module(
    config: Config,
    sides: Sides,
    module: Module,
    *,
    examples: int,
    headers: Mapping[str, str],
    report: Callable[[Outcome], None],
    random_seed: int | None = None,
) -> list[Outcome]:
    """Every operation of v2 the module moves, checked; ``report`` is told each as it ends.
    With ``random_seed``, the same requests are generated each run."""
    assert sides.v2 is not None
    operations = _operations(sides.v2.openapi(), module, report)
    # Reads first: their answers give the writes real objects to act on.
    operations.sort(key=lambda named: named[1].method.upper() not in SAFE_METHODS)
    outcomes: list[Outcome] = []
    seen = Seen()
    escaped: str | None = None
    with BothSides(config, sides, headers, write_ignore=module.write_ignore).running() as both:
        for name, operation in operations:
            if escaped is not None and operation.method.upper() not in SAFE_METHODS:
                outcome = Outcome(name, 0, skipped=f"a write: not sent ({escaped})")
            else:
                outcome = _check(both, module, operation, name, examples, seen, random_seed)
                escaped = escaped or outcome.escaped
            report(outcome)
            outcomes.append(outcome)
    return outcomes


def _operations(
    document: dict[str, Any], module: Module, report: Callable[[Outcome], None]
) -> list[tuple[str, Any]]:
    import schemathesis  # the `parity` extra
    from schemathesis.core.result import Err

    if not document:
        raise LookupError("v2 has no OpenAPI document to generate requests from")
    try:
        schema = schemathesis.openapi.from_dict(document)
    except Exception as exc:  # Schemathesis's loader errors name what is wrong
        raise LookupError(f"v2's OpenAPI document cannot be read: {exc}") from exc
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation v2's document describes wrongly
            report(Outcome("?", 0, skipped=f"not checked: {result.err()}"))
            continue
        operation = result.ok()
        rest = legacy_path(module, re.sub(r"\{[^}]+\}", "x", operation.path))
        if rest is not None and not module.keeps(operation.method.upper(), rest):
            found.append((f"{operation.method.upper()} {operation.path}", operation))
    return found


def _judged(module: Module, asked: Asked) -> Verdict:
    verdict = compare(
        legacy_status=asked.legacy.status_code,
        legacy_body=asked.legacy.content,
        v2_status=asked.v2.status_code,
        v2_body=asked.v2.content,
        ignore=module.ignore,
        noise=module.noise,
    )
    return with_writes(verdict, asked.legacy_writes, asked.v2_writes)


class _Escaped(Exception):
    """A write escaped a sandbox: the check of this operation stops at once."""


class _Sender:
    """One operation's requests: each sent to both sides, its verdict kept by request."""

    def __init__(self, both: BothSides, module: Module, seen: Seen) -> None:
        self.both = both
        self.module = module
        self.seen = seen
        self.sent = 0
        # The requests that differed (by request and generated headers): as shown, and why.
        self.verdicts: dict[str, tuple[str, Verdict]] = {}
        self.smallest: str | None = None  # the last of them: Hypothesis replays the minimal
        self.first_difference = 0  # requests sent when the first difference came
        self.escapes: list[str] = []

    def send(self, case: Any) -> None:
        path = case.formatted_path
        rest = legacy_path(self.module, path)
        if rest is None:
            return
        method = case.method.upper()
        body = None if type(case.body).__name__ == "NotSet" else case.body
        query = str(httpx.QueryParams(case.query or {}))
        request = f"{method} {path}" + (f"?{query}" if query else "")
        request += f" {json.dumps(body)}" if body is not None else ""
        key = f"{request} {sorted((case.headers or {}).items())}"
        if key in self.verdicts:  # known to differ: asked again while shrinking
            self._differs(key)
        if self.verdicts and self.sent >= self.first_difference + SHRINK_REQUESTS:
            return  # shrinking's budget is spent: a new candidate is not sent
        self.sent += 1
        options = self.both.options
        asked = self.both.ask(
            method,
            options.legacy_base + rest,
            options.v2_prefix + path,
            case.query,
            case.headers,
            body,
        )
        if asked.escapes:
            self.escapes.extend(asked.escapes)
            raise _Escaped
        self.seen.keep(_json(asked.legacy))
        verdict = _judged(self.module, asked)
        if not verdict.matched:
            self.first_difference = self.first_difference or self.sent
            self.verdicts[key] = (request, verdict)
            self._differs(key)

    def _differs(self, key: str) -> None:
        self.smallest = key
        raise AssertionError(self.verdicts[key][1].signature)


def _check(
    both: BothSides,
    module: Module,
    operation: Any,
    name: str,
    examples: int,
    seen: Seen,
    random_seed: int | None,
) -> Outcome:
    from hypothesis import HealthCheck, Verbosity, given, seed, settings
    from hypothesis import strategies as st

    sender = _Sender(both, module, seen)
    choices = {
        parameter.name: seen.for_parameter(parameter.name)
        for parameter in operation.path_parameters
    }

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )
    @seed(random_seed)
    @given(case=operation.as_strategy(), data=st.data())
    def one(case: Any, data: Any) -> None:
        for parameter, values in choices.items():
            # Mostly a seen value (a write on a random id is a 404 on both sides), else the
            # schema's own.
            if values and data.draw(st.integers(0, 3)) > 0:
                case.path_parameters[parameter] = data.draw(st.sampled_from(values))
        sender.send(case)

    try:
        one()
    except _Escaped:
        escaped = "a write escaped its sandbox: " + "; ".join(sender.escapes)
        return Outcome(name, sender.sent, skipped=escaped, escaped=escaped)
    except AssertionError:
        assert sender.smallest is not None
        request, verdict = sender.verdicts[sender.smallest]
        return Outcome(name, sender.sent, request, verdict)
    return Outcome(name, sender.sent)


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None
