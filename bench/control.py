"""What the live control plane costs a request: the snapshot lookup and the metrics.

Two measures, each against its baseline in the same run:

- in isolation (``control_cost.py``, a process of its own): microseconds per request of
  reading the live snapshot instead of a fixed manifest, and of counting an answer in
  prometheus-client's multiprocess mode (with the legacy turn gauges for a legacy request),
  put beside each side's time per request on the article list;
- end to end: the article list through two ``gateway serve`` servers alternately, one
  counting for ``/metrics`` (an admin token set) and one not (without a token nothing is
  counted); the snapshot is read by both, as every gateway reads it.

Target (issue 16): under 3 % of the legacy and of the v2 throughput on the article list.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

import httpx

from load import Request, interleaved
from servers import BIN, ROOT, gateway
from targets import verdict

CONTROL_COST_UNDER = 0.03
ADMIN_TOKEN = "bench-admin-token-0123456789"
LIST = "/api/articles?limit=20"


def _isolated() -> dict[str, float]:
    script = Path(__file__).with_name("control_cost.py")
    done = subprocess.run(
        [str(BIN / "python"), str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def control_table(env: Mapping[str, str], *, seconds: int, rounds: int) -> list[str]:
    isolated = _isolated()
    with ExitStack() as stack:
        off = stack.enter_context(gateway(env))
        on = stack.enter_context(gateway({**env, "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}))
        scrape = httpx.get(f"{on.base}/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        scrape.raise_for_status()  # the server counting is the one measured as counting
        measures = {
            f"{side} {name}": Request(f"{server.base}/{side}{LIST}")
            for side in ("legacy", "v2")
            for name, server in (("off", off), ("on", on))
        }
        figures = interleaved(measures, seconds=seconds, rounds=rounds)
    lines = [
        "| article list | metrics off req/s | metrics on req/s | on / off | isolated cost "
        "per request | share of a request | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for side in ("legacy", "v2"):
        off_rps, on_rps = figures[f"{side} off"].rps, figures[f"{side} on"].rps
        cost_us = isolated["snapshot_lookup_us"] + isolated["metrics_answer_us"]
        if side == "legacy":
            cost_us += isolated["metrics_turns_us"]
        share = cost_us * off_rps / 1e6  # one worker: a request takes 1/rps of its time
        lines.append(
            f"| {side} | {off_rps:.0f} | {on_rps:.0f} | {on_rps / off_rps:.3f} "
            f"| {cost_us:.1f} µs | {share:.2%} | < {CONTROL_COST_UNDER:.0%} "
            f"| {verdict(share < CONTROL_COST_UNDER)} |"
        )
    lines += [
        "",
        f"Isolated, per request: snapshot lookup {isolated['snapshot_lookup_us']:.3f} µs "
        f"(finding the module, done before the control plane too: "
        f"{isolated['module_for_us']:.1f} µs); counting an answer "
        f"{isolated['metrics_answer_us']:.1f} µs; a legacy turn's gauges "
        f"{isolated['metrics_turns_us']:.1f} µs. `gateway serve --workers 1`; the end-to-end "
        "ratio moves with the machine's noise by more than the cost it measures.",
    ]
    return lines
