"""Generated checks, before any traffic: requests made from v2's OpenAPI by Schemathesis, each
sent to both sides in this process and compared as the shadow compares them.

For each operation of v2 that a module moves (its path mapped back to the legacy path the
module owns, routes kept on legacy aside), Hypothesis draws requests from the operation's
schema; both apps answer each one, and the first difference is shrunk by Hypothesis to a
minimal request. Only GET and HEAD are sent in this version: a write would change the
database, and writes wait for the transactions that are always rolled back.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.config.configuration import Config
from gateway.config.manifest import Module
from gateway.config.patterns import captures, pattern_segments, segments
from gateway.mounts.sides import Sides
from gateway.shadow.capture import SAFE_METHODS
from gateway.shadow.compare import Verdict, compare

# How long one generated request may take on either side.
ANSWER_SECONDS = 30.0
_PLACEHOLDER = re.compile(r"\{(\d+|\*\*)\}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One operation's check: how many requests were sent, and the minimal difference."""

    operation: str
    sent: int
    request: str | None = None  # the minimal request that differed
    verdict: Verdict | None = None
    skipped: str | None = None


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


class BothSides:
    """Both apps on an event loop of their own thread, their lifespans running, answering
    requests sent from this (synchronous) one: Hypothesis calls its tests synchronously."""

    def __init__(self, config: Config, sides: Sides, headers: Mapping[str, str]) -> None:
        assert sides.v2 is not None
        options = config.options
        self.legacy = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sides.legacy.asgi, root_path=options.legacy_base),
            base_url="http://gateway",
        )
        self.v2 = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sides.v2.asgi, root_path=options.v2_prefix),
            base_url="http://gateway",
        )
        self.sides = sides
        self.options = options
        self.headers = dict(headers)
        self.loop = asyncio.new_event_loop()
        self._stack = AsyncExitStack()

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(ANSWER_SECONDS * 2)

    @contextmanager
    def running(self) -> Iterator[BothSides]:
        thread = threading.Thread(target=self.loop.run_forever, name="parity-check", daemon=True)
        thread.start()
        try:
            self._run(self._start())
            yield self
        finally:
            self._run(self._stack.aclose())
            self.loop.call_soon_threadsafe(self.loop.stop)
            thread.join(ANSWER_SECONDS)
            self.loop.close()

    async def _start(self) -> None:
        await self._stack.enter_async_context(self.sides.legacy.running())
        assert self.sides.v2 is not None
        await self._stack.enter_async_context(self.sides.v2.running())
        await self._stack.enter_async_context(self.legacy)
        await self._stack.enter_async_context(self.v2)

    def ask(
        self, method: str, legacy: str, v2: str, query: Any, headers: Any
    ) -> tuple[httpx.Response, httpx.Response]:
        sent = {**{k: str(v) for k, v in (headers or {}).items()}, **self.headers}

        async def both() -> tuple[httpx.Response, httpx.Response]:
            async with asyncio.timeout(ANSWER_SECONDS):
                old = await self.legacy.request(method, legacy, params=query, headers=sent)
                new = await self.v2.request(method, v2, params=query, headers=sent)
            return old, new

        answers: tuple[httpx.Response, httpx.Response] = self._run(both())
        return answers


def check_module(
    config: Config,
    sides: Sides,
    module: Module,
    *,
    examples: int,
    headers: Mapping[str, str],
    report: Callable[[Outcome], None],
) -> list[Outcome]:
    """Every operation of v2 the module moves, checked; ``report`` is told each as it ends."""
    import schemathesis  # the `parity` extra
    from schemathesis.core.result import Err

    assert sides.v2 is not None
    document = sides.v2.openapi()
    if not document:
        raise LookupError("v2 has no OpenAPI document to generate requests from")
    try:
        schema = schemathesis.openapi.from_dict(document)
    except Exception as exc:  # Schemathesis's loader errors name what is wrong
        raise LookupError(f"v2's OpenAPI document cannot be read: {exc}") from exc
    outcomes = []
    with BothSides(config, sides, headers).running() as both:
        for result in schema.get_all_operations():
            if isinstance(result, Err):  # an operation v2's document describes wrongly
                report(Outcome("?", 0, skipped=f"not checked: {result.err()}"))
                continue
            operation = result.ok()
            name = f"{operation.method.upper()} {operation.path}"
            sample = re.sub(r"\{[^}]+\}", "x", operation.path)
            rest = legacy_path(module, sample)
            if rest is None or module.keeps(operation.method.upper(), rest):
                continue
            if operation.method.upper() not in SAFE_METHODS:
                outcome = Outcome(name, 0, skipped="a write: not sent (no rolled-back writes yet)")
            else:
                outcome = _check(both, module, operation, name, examples)
            report(outcome)
            outcomes.append(outcome)
    return outcomes


def _check(both: BothSides, module: Module, operation: Any, name: str, examples: int) -> Outcome:
    from hypothesis import HealthCheck, Verbosity, given, settings

    failures: list[tuple[str, Verdict]] = []
    sent = 0
    options = both.options

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def one(case: Any) -> None:
        nonlocal sent
        path = case.formatted_path
        rest = legacy_path(module, path)
        if rest is None:
            return
        sent += 1
        method = case.method.upper()
        old, new = both.ask(
            method, options.legacy_base + rest, options.v2_prefix + path, case.query, case.headers
        )
        verdict = compare(
            legacy_status=old.status_code,
            legacy_body=old.content,
            v2_status=new.status_code,
            v2_body=new.content,
            ignore=module.ignore,
            noise=module.noise,
        )
        if not verdict.matched:
            query = str(httpx.QueryParams(case.query or {}))
            failures.append((f"{method} {path}" + (f"?{query}" if query else ""), verdict))
            raise AssertionError(verdict.signature)

    try:
        one()
    except AssertionError:
        request, verdict = failures[-1]  # Hypothesis replays the minimal example last
        return Outcome(name, sent, request, verdict)
    return Outcome(name, sent)
