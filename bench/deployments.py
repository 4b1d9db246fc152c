"""The gateway against the deployment it replaces: nginx in front of gunicorn and uvicorn.

Each setup of ``SETUPS`` serves the same seeded database at one address, legacy under
``/legacy`` and v2 under ``/v2``. In every round each setup in turn is started alone, warmed
up, measured and stopped (the order rotates between rounds), so no other setup's processes
share the two cores, or divide the pages they share (PSS), while one is measured:

- the legacy article list alone, the v2 article list alone, then both at once (two wrk);
- a /v2/api/tags probe every 20 ms, idle and while wrk saturates the legacy list with
  ``SATURATING`` connections;
- the memory of all its processes after those loads: PSS summed over each process tree.

Medians of the rounds are kept. Then each setup serves one write burst (bench/burst.py),
after every round: the burst's articles would otherwise head the article list measured next.
A setup that fails to start (or under load) is skipped with a note; the others go on.
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx

from burst import BurstFigures, burst
from deployments_report import Measured, report
from load import Figures, Request, probe_under_load, wrk
from servers import Deployment, gateway, tree_pids, tree_pss_mib, tree_rss_mib, wait_quiet
from two_services import two_services


@dataclass(frozen=True)
class Setup:
    name: str  # the table's column
    workers: int | None = None  # gateway serve --workers N; None: the two-service deployment
    env: tuple[tuple[str, str], ...] = ()  # more variables for the gateway


# The gateway's process mode: legacy views in 4 processes of their own.
PROCESSES = (("GATEWAY_LEGACY_PROCESSES", "4"),)
# The setups compared, in the table's order; the first is the baseline of every ratio.
SETUPS = (
    Setup("two-services"),
    Setup("gateway -w1", 1),
    Setup("gateway -w2", 2),
    Setup("gateway -w1, processes 4", 1, PROCESSES),
    Setup("gateway -w2, processes 4", 2, PROCESSES),
)
SATURATING = 64  # wrk connections on the legacy list while the probe runs
WARM_UP_SECONDS = 1  # per list, on a fresh setup: every worker's first requests are slower
# What a setup that does not start or does not hold a load raises; anything else is a bug.
FAILURES = (RuntimeError, subprocess.SubprocessError, httpx.HTTPError, OSError)
T = TypeVar("T")


def start(setup: Setup, env: Mapping[str, str]) -> AbstractContextManager[Deployment]:
    if setup.workers is None:
        return two_services(env)
    return _gateway(setup, env)


@contextmanager
def _gateway(setup: Setup, env: Mapping[str, str]) -> Iterator[Deployment]:
    with gateway({**env, **dict(setup.env)}, workers=setup.workers or 1) as server:
        yield Deployment(server.base, (server.pid,))


def _pids(deployment: Deployment) -> list[int]:
    return [pid for root in deployment.pids for pid in tree_pids(root)]


def _settle(deployment: Deployment) -> None:
    """Wait until the setup is idle: work left from one load would slow the next measure."""
    wait_quiet(_pids(deployment))


def _at_once(first: Request, second: Request, *, seconds: int) -> tuple[Figures, Figures]:
    """Two wrk processes at the same time, one per request."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        one = pool.submit(wrk, first, seconds=seconds)
        two = pool.submit(wrk, second, seconds=seconds)
        return one.result(), two.result()


def _loads(deployment: Deployment, *, seconds: int) -> dict[str, float]:
    legacy = Request(f"{deployment.base}/legacy/api/articles")
    v2 = Request(f"{deployment.base}/v2/api/articles")
    probe = f"{deployment.base}/v2/api/tags"
    for request in (legacy, v2):
        wrk(request, seconds=WARM_UP_SECONDS)
    figures: dict[str, float] = {}
    _settle(deployment)
    figures["legacy alone"] = wrk(legacy, seconds=seconds).rps
    _settle(deployment)
    figures["v2 alone"] = wrk(v2, seconds=seconds).rps
    _settle(deployment)
    both = _at_once(legacy, v2, seconds=seconds)
    figures["legacy both"], figures["v2 both"] = both[0].rps, both[1].rps
    _settle(deployment)
    figures["idle p50"], figures["idle p99"], _ = probe_under_load(probe, None, seconds=seconds)
    _settle(deployment)
    p50, p99, rps = probe_under_load(probe, legacy, seconds=seconds, connections=SATURATING)
    figures |= {"loaded p50": p50, "loaded p99": p99, "legacy saturated": rps}
    return figures


def measure(deployment: Deployment, *, seconds: int) -> dict[str, float]:
    """One round's figures for one setup, its memory read after the loads."""
    figures = _loads(deployment, seconds=seconds)
    figures["pss"] = sum(tree_pss_mib(root) for root in deployment.pids)
    figures["rss"] = sum(tree_rss_mib(root) for root in deployment.pids)
    figures["processes"] = len(_pids(deployment))
    return figures


def _attempt(setup: Setup, env: Mapping[str, str], work: Callable[[Deployment], T]) -> T | str:
    """``work`` on the setup, started for it and stopped afterwards; if the setup fails, why."""
    started = False
    try:
        with start(setup, env) as deployment:
            started = True
            return work(deployment)
    except FAILURES as exc:
        when = "failed under load" if started else "did not start"
        return f"{when}: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}"


def _rounds(
    env: Mapping[str, str], *, seconds: int, rounds: int
) -> tuple[dict[str, list[dict[str, float]]], dict[str, str]]:
    """Each round's figures per setup, and why a setup was skipped (once failed, it is not
    tried again: a server that will not start costs the whole start deadline each time)."""
    runs: dict[str, list[dict[str, float]]] = {setup.name: [] for setup in SETUPS}
    skipped: dict[str, str] = {}
    for n in range(rounds):
        shift = n % len(SETUPS)
        for setup in SETUPS[shift:] + SETUPS[:shift]:
            if setup.name in skipped:
                continue
            result = _attempt(setup, env, lambda d: measure(d, seconds=seconds))
            if isinstance(result, str):
                skipped[setup.name] = f"round {n + 1}: {result}"
            else:
                runs[setup.name].append(result)
    return runs, skipped


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def deployments_table(
    env: Mapping[str, str], token: str, *, seconds: int, rounds: int
) -> list[str]:
    """The section's table: ``token`` is a seeded user's, for the burst's posts."""
    runs, skipped = _rounds(env, seconds=seconds, rounds=rounds)
    bursts: dict[str, BurstFigures] = {}
    for setup in SETUPS:
        if setup.name in skipped or not runs[setup.name]:
            continue
        result = _attempt(setup, env, lambda d: burst(f"{d.base}/legacy/api", token))
        if isinstance(result, str):
            skipped[setup.name] = f"burst: {result}"
        else:
            bursts[setup.name] = result
    measured = [
        Measured(
            setup.name,
            _medians(runs[setup.name]) if runs[setup.name] else None,
            bursts.get(setup.name),
            skipped.get(setup.name),
        )
        for setup in SETUPS
    ]
    return report(measured, rounds=rounds, saturating=SATURATING)
