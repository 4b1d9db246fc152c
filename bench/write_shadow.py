"""What shadowing writes costs the client: a write on three gateways, the articles module in
state legacy (off), then shadowed with ``shadow_writes`` at 10 % and at 100 %.

The write is favouriting one seeded article as the seeded reader: it can be repeated (a
favourite is a row once, whatever the number of requests), and both sides answer it alike.
A sampled write waits for v2's turn in its rolled-back sandbox before legacy serves it: that
wait is the cost measured here, as the client's p99 over off. Rounds alternate between the
three gateways, each given the time to go quiet first. A shadow that recorded fewer
comparisons than its sample rate asks, or comparisons that did not match, fails.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

import httpx

from load import Figures, Request, interleaved
from seed import Seeded
from servers import gateway, wait_quiet
from shadow import WARM_UP, Config, Records, parity_report, read_records, write_manifests
from targets import WRITE_SHADOW_P99_OVER_OFF, at_most, verdict

CONFIGS = (
    Config("writes not shadowed (articles: legacy)", "articles", "legacy", 0.0),
    Config("writes shadowed 10 %", "articles-writes-10", "shadow", 0.1, writes=True),
    Config("writes shadowed 100 %", "articles-writes-100", "shadow", 1.0, writes=True),
)
OFF, AT_10, AT_100 = CONFIGS


def _warm_up(request: Request) -> None:
    with httpx.Client(timeout=30) as http:
        for _ in range(WARM_UP):
            answer = http.post(request.url, headers={"Authorization": f"Token {request.token}"})
            answer.raise_for_status()


def _met(config: Config, ratio: float, records: Records, sent: int) -> str:
    if config is OFF:
        return verdict(records.comparisons == 0, "the baseline recorded comparisons")
    accounted = records.comparisons + records.dropped
    if accounted < 0.7 * config.rate * sent:
        return verdict(False, f"{accounted} of ~{config.rate * sent:.0f} accounted for")
    if records.matched != "100.0%":
        return verdict(False, f"{records.matched} matched")
    return at_most(ratio, WRITE_SHADOW_P99_OVER_OFF) if config is AT_10 else "-"


def _row(config: Config, figures: Figures, off: Figures, records: Records, sent: int) -> str:
    ratio = figures.p99_ms / off.p99_ms
    target = f"p99 / off ≤ {WRITE_SHADOW_P99_OVER_OFF}" if config is AT_10 else "-"
    return (
        f"| {config.label} | {figures.rps:.0f} | {figures.p50_ms:.1f} | {figures.p99_ms:.1f} "
        f"| **{ratio:.2f}** | {target} | {_met(config, ratio, records, sent)} "
        f"| {records.comparisons} ({records.matched}) | {records.errors} | {records.dropped} |"
    )


def write_shadow_table(
    env: Mapping[str, str], seeded: Seeded, *, seconds: int, rounds: int
) -> list[str]:
    path = f"/legacy/api/articles/{seeded.slug}/favorite"
    with tempfile.TemporaryDirectory(prefix="bench-write-shadow-") as folder:
        manifests = write_manifests(Path(folder), CONFIGS)
        with ExitStack() as stack:
            servers = {c: stack.enter_context(gateway(env, manifests[c])) for c in CONFIGS}
            pids = [server.pid for server in servers.values()]
            requests = {
                c.label: Request(servers[c].base + path, "POST", token=seeded.token)
                for c in CONFIGS
            }
            for request in requests.values():
                _warm_up(request)
            wait_quiet(pids)
            figures = interleaved(
                requests, seconds=seconds, rounds=rounds, settle=lambda: wait_quiet(pids)
            )
        records = {c: read_records(env, manifests[c], c.module) for c in CONFIGS}
        report = parity_report(env, manifests[AT_100])
    off = figures[OFF.label]
    lines = [
        f"| client POST {path.replace(seeded.slug, '{slug}')} | req/s | p50 ms | p99 ms "
        "| p99 / off | target | met | comparisons (matched) | v2 errors | dropped |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for config in CONFIGS:
        sent = figures[config.label].requests + WARM_UP
        lines.append(_row(config, figures[config.label], off, records[config], sent))
    lines += [
        "",
        "A sampled write is answered by v2 first, in a transaction that is rolled back, then "
        "served by legacy; comparisons (answers and write sets) as `gateway parity` reads "
        "them once the servers stopped. v2's turn is always taken; comparing and recording "
        "it is the replay process's, at idle priority, which drops (and counts) what a "
        "saturated machine leaves it no time for.",
        "",
        f"`gateway parity` on the 100 % gateway's records:\n\n```\n{report.strip()}\n```",
    ]
    return lines
