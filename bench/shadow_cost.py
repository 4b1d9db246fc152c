"""What shadowing costs the client: latency of legacy answers with and without a shadow.

Starts a real gateway (``gateway serve``, uvicorn) on loopback for each configuration, on one
SQLite database seeded with the demo data, and drives it with an asyncio load generator:
the same requests, the same concurrency, one configuration after the other. Reported as
ratios to the baseline (module in state ``legacy``) measured in the same run.

    .venv/bin/python bench/shadow_cost.py [--requests 2000] [--concurrency 16]

Loopback only; every loop is bounded by a request count and a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

MANIFEST = """\
[gateway]
legacy = "legacy_flask:create_app"
v2 = "v2:create_app"
errors = "v2.errors:gateway_error"

[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/**"]
state = "{state}"
{extra}
"""
CONFIGS = {
    "legacy (baseline)": ("legacy", ""),
    "shadow 10%": ("shadow", "shadow_sample_rate = 0.1"),
    "shadow 100%": ("shadow", "shadow_sample_rate = 1.0"),
}
PATHS = ["/legacy/api/articles", "/legacy/api/articles?limit=5", "/legacy/api/tags"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _drive(base: str, requests: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    counter = iter(range(requests))
    deadline = time.monotonic() + 300

    async def worker(client: httpx.AsyncClient) -> None:
        for n in counter:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            response = await client.get(PATHS[n % len(PATHS)])
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return proc
        except httpx.ConnectError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the gateway did not start")


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "CONDUIT_DATABASE__URL": f"sqlite:///{tmp}/bench.db",
            "CONDUIT_VAR_DIR": tmp,
            "GATEWAY_SHADOW__QUEUE_SIZE": "1000",
        }
        subprocess.run(
            [sys.executable, "-m", "shared.cli", "demo"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        results: dict[str, list[float]] = {}
        for name, (state, extra) in CONFIGS.items():
            manifest = Path(tmp) / f"{state}-{len(extra)}.toml"
            manifest.write_text(MANIFEST.format(state=state, extra=extra))
            port = _free_port()
            proc = _serve({**env, "GATEWAY_MANIFEST": str(manifest)}, port)
            try:
                base = f"http://127.0.0.1:{port}"
                asyncio.run(_drive(base, 200, args.concurrency))  # warm-up
                started = time.perf_counter()
                results[name] = asyncio.run(_drive(base, args.requests, args.concurrency))
                results[name].append(time.perf_counter() - started)  # total, popped below
            finally:
                proc.terminate()
                proc.wait(timeout=10)

    baseline: dict[str, float] = {}
    print(f"{args.requests} GETs per configuration, concurrency {args.concurrency}, loopback")
    print(f"{'configuration':<20}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p50 x':>8}{'p99 x':>8}")
    for name, values in results.items():
        total = values.pop()
        figures = {
            "rps": len(values) / total,
            "p50": statistics.median(values) * 1000,
            "p99": _percentile(values, 99) * 1000,
        }
        baseline = baseline or figures
        print(
            f"{name:<20}{figures['rps']:>9.0f}{figures['p50']:>9.2f}{figures['p99']:>9.2f}"
            f"{figures['p50'] / baseline['p50']:>8.2f}{figures['p99'] / baseline['p99']:>8.2f}"
        )


if __name__ == "__main__":
    main()
