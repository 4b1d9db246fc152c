"""v2 against the legacy code it replaces, and the gateway against gunicorn: one run, ratios.

Starts real servers on loopback on one database seeded through the API (3 users, 30 articles
of 3 tags each, follows): the gateway (``gateway serve``, one uvicorn worker) and the same
legacy Flask app alone on gunicorn (one sync worker; one gthread worker with 8 threads).
wrk drives each endpoint; the two sides of every ratio are measured alternately, in rounds,
and the median of the rounds is kept, so load on the machine moves both alike. Then a
low-rate /v2 probe is timed idle and while wrk saturates a legacy view that waits on the
database and one that burns CPU (argon2 login), next to the legacy throughput reached, and
the gateway's memory is read at rest and under load.

    make bench        # SQLite, then a throw-away PostgreSQL; writes bench/results/<date>-compare.md
    .venv/bin/python bench/compare.py --database sqlite --seconds 5 --rounds 2

Loopback only; every run of wrk is bounded by its duration, every wait by a deadline.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ARTICLES = 30
WRK_CONNECTIONS = 8


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # relative to the side's prefix; {slug} is a seeded article
    authenticated: bool = False


ENDPOINTS = (
    Endpoint("article list (20 of 30)", "GET", "/api/articles"),
    Endpoint("one article", "GET", "/api/articles/{slug}"),
    Endpoint("tags", "GET", "/api/tags"),
    Endpoint("feed (authenticated)", "GET", "/api/articles/feed", authenticated=True),
    Endpoint("favorite (a write)", "POST", "/api/articles/{slug}/favorite", authenticated=True),
)


@dataclass(frozen=True)
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _ready(url: str, proc: subprocess.Popen[bytes], deadline_seconds: float = 60) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered {url} within {deadline_seconds} s")


@contextmanager
def _server(
    command: list[str], env: dict[str, str], probe: str
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        _ready(probe, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str,
    *,
    seconds: int,
    method: str = "GET",
    token: str | None = None,
    body: str | None = None,
) -> Figures:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{method}"\n')
        if token is not None:
            script.write(f'wrk.headers["Authorization"] = "Token {token}"\n')
        if body is not None:
            script.write(f"wrk.body = [[{body}]]\n")
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
    try:
        command = ["wrk", "--latency", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s"]
        output = subprocess.run(
            [*command, "-s", script.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"{method} {url} answered errors under load:\n{output}")
    rps = _RPS.search(output)
    percentiles = {p: float(v) * _UNIT_MS[u] for p, v, u in _PERCENTILE.findall(output)}
    if rps is None or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return Figures(float(rps[1]), percentiles["50"], percentiles["99"])


def rss_mib(pid: int) -> float:
    """The resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Probe:
    """A low-rate client: one request every ``interval`` seconds, its latencies kept."""

    def __init__(self, url: str, interval: float = 0.05) -> None:
        self.url = url
        self.interval = interval
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as http:
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
        cuts = statistics.quantiles(self.latencies, n=100)
        return statistics.median(self.latencies), cuts[98]


Load = tuple[str, str, str | None]  # url, method, JSON body


def probe_under_load(
    probe_url: str, load: Load | None, *, seconds: int
) -> tuple[float, float, float]:
    """The probe's p50 and p99 (ms) while ``load`` runs on wrk (or idle), and the load's req/s."""
    with Probe(probe_url) as probe:
        if load is None:
            time.sleep(seconds)  # the probe runs alone for as long as a loaded run lasts
            rps = 0.0
        else:
            url, method, body = load
            rps = wrk(url, seconds=seconds, method=method, body=body).rps
    p50, p99 = probe.percentiles()
    return p50, p99, rps


def seed(api: str) -> tuple[str, str]:
    """Users, follows and articles through the legacy API; a follower's token and a slug."""
    tokens = []
    with httpx.Client(base_url=api, timeout=60) as http:
        for name in ("author1", "author2", "reader"):
            user = {"username": name, "email": f"{name}@example.com", "password": "benchmark-pw"}
            answer = http.post("/users", json={"user": user})
            answer.raise_for_status()
            tokens.append(answer.json()["user"]["token"])
        reader = {"Authorization": f"Token {tokens[2]}"}
        for author in ("author1", "author2"):
            http.post(f"/profiles/{author}/follow", headers=reader).raise_for_status()
        slug = ""
        for n in range(ARTICLES):
            article = {
                "title": f"Article {n}",
                "description": f"About {n}",
                "body": "Lorem ipsum dolor sit amet. " * 40,
                "tagList": [f"tag{n % 7}", f"topic{n % 5}", "bench"],
            }
            headers = {"Authorization": f"Token {tokens[n % 2]}"}
            answer = http.post("/articles", json={"article": article}, headers=headers)
            answer.raise_for_status()
            slug = answer.json()["article"]["slug"]
    return tokens[2], slug


def interleaved(
    measures: dict[str, tuple[str, str, str | None]], *, seconds: int, rounds: int
) -> dict[str, Figures]:
    """Each named (url, method, token) measured once per round, in turn; the median kept."""
    runs: dict[str, list[Figures]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, (url, method, token) in measures.items():
            runs[name].append(wrk(url, seconds=seconds, method=method, token=token))
    return {
        name: Figures(
            statistics.median(f.rps for f in figures),
            statistics.median(f.p50_ms for f in figures),
            statistics.median(f.p99_ms for f in figures),
        )
        for name, figures in runs.items()
    }


def run(database_url: str, *, label: str, seconds: int, rounds: int) -> list[str]:
    env = {
        **os.environ,
        "CONDUIT_DATABASE_URL": database_url,
        "CONDUIT_VAR_DIR": tempfile.mkdtemp(prefix="bench-var-"),
        "GATEWAY_MANIFEST": str(ROOT / "migration.toml"),
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "conduit", "db", "upgrade"], env=env, check=True)
    gateway, sync, gthread = _port(), _port(), _port()
    gunicorn = [str(bin_dir / "gunicorn"), "legacy_flask:create_app()", "--workers", "1"]
    lines = [f"### {label}", ""]
    with (
        _server(
            [str(bin_dir / "gateway"), "serve", "--port", str(gateway)],
            env,
            f"http://127.0.0.1:{gateway}/health",
        ) as gateway_proc,
        _server(
            [*gunicorn, "--worker-class", "sync", "--bind", f"127.0.0.1:{sync}"],
            env,
            f"http://127.0.0.1:{sync}/api/tags",
        ),
        _server(
            [
                *gunicorn,
                "--worker-class",
                "gthread",
                "--threads",
                "8",
                "--bind",
                f"127.0.0.1:{gthread}",
            ],
            env,
            f"http://127.0.0.1:{gthread}/api/tags",
        ),
    ):
        base = f"http://127.0.0.1:{gateway}"
        token, slug = seed(f"{base}/legacy/api")
        lines += [
            "| endpoint | legacy req/s | v2 req/s | v2 / legacy | legacy p99 ms | v2 p99 ms |"
        ]
        lines += ["|---|---|---|---|---|---|"]
        for endpoint in ENDPOINTS:
            path = endpoint.path.format(slug=slug)
            auth = token if endpoint.authenticated else None
            figures = interleaved(
                {
                    "legacy": (f"{base}/legacy{path}", endpoint.method, auth),
                    "v2": (f"{base}/v2{path}", endpoint.method, auth),
                },
                seconds=seconds,
                rounds=rounds,
            )
            legacy, v2 = figures["legacy"], figures["v2"]
            lines.append(
                f"| {endpoint.name} | {legacy.rps:.0f} | {v2.rps:.0f} | "
                f"**{v2.rps / legacy.rps:.2f}** | {legacy.p99_ms:.1f} | {v2.p99_ms:.1f} |"
            )
        lines += [
            "",
            "| legacy endpoint | gateway req/s | gunicorn sync | gateway / sync | "
            "gunicorn gthread (8) | gateway / gthread |",
            "|---|---|---|---|---|---|",
        ]
        for endpoint in ENDPOINTS[:3]:
            path = endpoint.path.format(slug=slug)
            figures = interleaved(
                {
                    "gateway": (f"{base}/legacy{path}", "GET", None),
                    "sync": (f"http://127.0.0.1:{sync}{path}", "GET", None),
                    "gthread": (f"http://127.0.0.1:{gthread}{path}", "GET", None),
                },
                seconds=seconds,
                rounds=rounds,
            )
            g, s, t = figures["gateway"], figures["sync"], figures["gthread"]
            lines.append(
                f"| {endpoint.name} | {g.rps:.0f} | {s.rps:.0f} | **{g.rps / s.rps:.2f}** | "
                f"{t.rps:.0f} | **{g.rps / t.rps:.2f}** |"
            )
        lines += _probe_table(base, gateway_proc.pid, seconds=seconds)
    return [*lines, ""]


def _probe_table(base: str, pid: int, *, seconds: int) -> list[str]:
    """A /v2 probe's latency while legacy is saturated, against the same probe idle; and the
    gateway's memory at rest and under load."""
    probe_url = f"{base}/v2/api/tags"
    at_rest = rss_mib(pid)
    idle = probe_under_load(probe_url, None, seconds=seconds)
    credentials = '{"user": {"email": "author1@example.com", "password": "benchmark-pw"}}'
    loads: dict[str, Load] = {
        "legacy article list (database-bound)": (f"{base}/legacy/api/articles", "GET", None),
        "legacy login (CPU-bound: argon2)": (f"{base}/legacy/api/users/login", "POST", credentials),
    }
    lines = [
        "",
        "| /v2/api/tags probe, every 50 ms | p50 ms | p99 ms | p99 / idle | legacy req/s |",
        "|---|---|---|---|---|",
        f"| idle | {idle[0]:.1f} | {idle[1]:.1f} | 1.00 | - |",
    ]
    peak = at_rest
    for name, load in loads.items():
        p50, p99, rps = probe_under_load(probe_url, load, seconds=seconds)
        peak = max(peak, rss_mib(pid))
        lines.append(f"| {name} | {p50:.1f} | {p99:.1f} | **{p99 / idle[1]:.2f}** | {rps:.0f} |")
    lines += ["", f"Gateway process memory: {at_rest:.0f} MiB at rest, {peak:.0f} MiB under load."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="alternations per ratio")
    parser.add_argument("--output", type=Path, default=RESULTS / f"{date.today()}-compare.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk; `make bench` does)")
    if args.database == "postgresql":
        url = os.environ.get("GATEWAY_TEST_DATABASE_URL")
        if not url:
            raise SystemExit("run under `python -m tests.postgres` for a PostgreSQL server")
        label = "PostgreSQL 15"
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.db"
        label = "SQLite (WAL)"
    lines = run(url, label=label, seconds=args.seconds, rounds=args.rounds)
    print("\n".join(lines))
    new = not args.output.exists()
    with args.output.open("a", encoding="utf-8") as out:
        if new:
            out.write(
                f"# v2 against legacy, the gateway against gunicorn ({date.today()})\n\n"
                f"bench/compare.py: wrk, 1 thread, {WRK_CONNECTIONS} connections, "
                f"{args.seconds} s runs, median of {args.rounds} alternating rounds; 2 cores "
                "shared by servers and load generator. Ratios within one run.\n\n"
            )
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
