"""Load and its measures: wrk runs and their figures, interleaved rounds, a low-rate probe.

Every wrk run is bounded by its duration (and a timeout past it), every probe request by a
client timeout.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

WRK_CONNECTIONS = 8


@dataclass(frozen=True)
class Request:
    url: str
    method: str = "GET"
    token: str | None = None
    body: str | None = None  # JSON
    not_found: bool = False  # every answer must be an error (a floor: no view, no database)


@dataclass(frozen=True)
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int  # answered; summed over rounds once interleaved


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_REQUESTS = re.compile(r"(\d+) requests in ")
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _script(request: Request) -> str:
    lines = [f'wrk.method = "{request.method}"']
    if request.token is not None:
        lines.append(f'wrk.headers["Authorization"] = "Token {request.token}"')
    if request.body is not None:
        lines.append(f"wrk.body = [[{request.body}]]")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    return "\n".join(lines) + "\n"


def parse_wrk(output: str, what: str, *, not_found: bool = False) -> Figures:
    errors, requests = _ERRORS.search(output), _REQUESTS.search(output)
    if not_found:
        if errors is None or requests is None or errors[1] != requests[1]:
            raise RuntimeError(f"{what} answered something else than errors:\n{output}")
    elif errors is not None:
        raise RuntimeError(f"{what} answered errors under load:\n{output}")
    rps = _RPS.search(output)
    percentiles = {p: float(v) * _UNIT_MS[u] for p, v, u in _PERCENTILE.findall(output)}
    if rps is None or requests is None or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"cannot read wrk's output for {what}:\n{output}")
    return Figures(float(rps[1]), percentiles["50"], percentiles["99"], int(requests[1]))


def wrk(request: Request, *, seconds: int, connections: int = WRK_CONNECTIONS) -> Figures:
    """One wrk run: 1 thread, ``connections`` connections, ``seconds`` long."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_script(request))
    try:
        command = ["wrk", "--latency", "-t1", f"-c{connections}", f"-d{seconds}s"]
        output = subprocess.run(
            [*command, "-s", script.name, request.url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    return parse_wrk(output, f"{request.method} {request.url}", not_found=request.not_found)


def interleaved(
    measures: Mapping[str, Request],
    *,
    seconds: int,
    rounds: int,
    settle: Callable[[], None] | None = None,
) -> dict[str, Figures]:
    """Each named request measured once per round, in turn; the median of the rounds kept
    (requests: their sum). ``settle`` runs after every wrk run, before the next."""
    runs: dict[str, list[Figures]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, request in measures.items():
            runs[name].append(wrk(request, seconds=seconds))
            if settle is not None:
                settle()
    return {
        name: Figures(
            statistics.median(f.rps for f in figures),
            statistics.median(f.p50_ms for f in figures),
            statistics.median(f.p99_ms for f in figures),
            sum(f.requests for f in figures),
        )
        for name, figures in runs.items()
    }


class Probe:
    """A low-rate client: one request every ``interval`` seconds, its latencies kept."""

    WARM_UP = 5  # requests not kept: the connection's opening is no part of the latency

    def __init__(self, url: str, interval: float = 0.02) -> None:
        self.url = url
        self.interval = interval
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as http:
            for _ in range(self.WARM_UP):
                http.get(self.url).raise_for_status()
            while not self._stop.wait(self.interval):
                started = time.perf_counter()
                http.get(self.url).raise_for_status()
                self.latencies.append((time.perf_counter() - started) * 1000)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=35)

    def percentiles(self) -> tuple[float, float]:
        if len(self.latencies) < 2:
            raise RuntimeError(f"the probe of {self.url} got {len(self.latencies)} answers")
        cuts = statistics.quantiles(self.latencies, n=100)
        return statistics.median(self.latencies), cuts[98]


def probe_under_load(
    probe_url: str, load: Request | None, *, seconds: int, connections: int = WRK_CONNECTIONS
) -> tuple[float, float, float]:
    """The probe's p50 and p99 (ms) while ``load`` runs on wrk with ``connections`` (or idle),
    and the load's req/s."""
    with Probe(probe_url) as probe:
        if load is None:
            time.sleep(seconds)  # the probe runs alone for as long as a loaded run lasts
            rps = 0.0
        else:
            rps = wrk(load, seconds=seconds, connections=connections).rps
    p50, p99 = probe.percentiles()
    return p50, p99, rps
