"""The gateway's tables: v2 against legacy per endpoint, the gateway against gunicorn, and a
/v2 probe idle and while legacy is saturated (with the gateway's memory)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from load import Request, interleaved, probe_under_load
from seed import Seeded, login_body
from servers import Server, rss_mib
from targets import (
    GATEWAY_OVER_SYNC,
    PROBE_P99_OVER_IDLE,
    V2_OVER_LEGACY_MAIN,
    V2_OVER_LEGACY_OTHER,
    at_least,
    verdict,
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # relative to the side's prefix; {slug} is a seeded article
    target: float | None  # v2 / legacy req/s
    authenticated: bool = False
    not_found: bool = False


ENDPOINTS = (
    Endpoint("article list (20 of 30)", "GET", "/api/articles", V2_OVER_LEGACY_MAIN),
    Endpoint("one article", "GET", "/api/articles/{slug}", V2_OVER_LEGACY_MAIN),
    Endpoint("tags", "GET", "/api/tags", V2_OVER_LEGACY_OTHER),
    Endpoint("feed (authenticated)", "GET", "/api/articles/feed", V2_OVER_LEGACY_OTHER, True),
    Endpoint(
        "favorite (a write)", "POST", "/api/articles/{slug}/favorite", V2_OVER_LEGACY_OTHER, True
    ),
)
# Each framework's fixed cost per request, through the same gateway: a path no route matches
# (no view, no database). On endpoints that do little, v2 / legacy can be no better than this
# ratio lets it.
FLOOR = Endpoint("not found (no view, no database)", "GET", "/api/no-such-path", None, False, True)
ARTICLE_LIST = ENDPOINTS[0]
GUNICORN_ENDPOINTS = ENDPOINTS[:3]  # anonymous reads


def endpoints_table(base: str, seeded: Seeded, *, seconds: int, rounds: int) -> list[str]:
    """v2 against the legacy code it replaces, per endpoint, both through the gateway."""
    lines = [
        "| endpoint | legacy req/s | v2 req/s | v2 / legacy | target | met "
        "| legacy p99 ms | v2 p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for endpoint in (*ENDPOINTS, FLOOR):
        path = endpoint.path.format(slug=seeded.slug)
        token = seeded.token if endpoint.authenticated else None
        figures = interleaved(
            {
                side: Request(
                    f"{base}/{side}{path}", endpoint.method, token, not_found=endpoint.not_found
                )
                for side in ("legacy", "v2")
            },
            seconds=seconds,
            rounds=rounds,
        )
        legacy, v2 = figures["legacy"], figures["v2"]
        ratio = v2.rps / legacy.rps
        lines.append(
            f"| {endpoint.name} | {legacy.rps:.0f} | {v2.rps:.0f} | **{ratio:.2f}** "
            f"| {_target(endpoint.target)} | {_met(ratio, endpoint.target)} "
            f"| {legacy.p99_ms:.1f} | {v2.p99_ms:.1f} |"
        )
    return lines


def _target(target: float | None) -> str:
    return "-" if target is None else f"≥ {target:.1f}"


def _met(ratio: float, target: float | None) -> str:
    return "-" if target is None else at_least(ratio, target)


def gunicorn_table(
    base: str,
    slug: str,
    sync: Server,
    gthread: Server,
    rooted: Server,
    *,
    seconds: int,
    rounds: int,
) -> tuple[list[str], float]:
    """The legacy app through the gateway (under /legacy, and at the root: ``rooted``)
    against it alone on gunicorn; the table and gthread's req/s on the article list (the
    probe's target needs it)."""
    lines = [
        "| legacy endpoint | gateway req/s | gateway at / | gunicorn sync | gateway / sync "
        "| at / / sync | target | met | gunicorn gthread (8) | gateway / gthread |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    gthread_list_rps = 0.0
    for endpoint in (*GUNICORN_ENDPOINTS, FLOOR):
        path = endpoint.path.format(slug=slug)
        bases = {
            "gateway": f"{base}/legacy",
            "rooted": rooted.base,
            "sync": sync.base,
            "gthread": gthread.base,
        }
        figures = interleaved(
            {
                name: Request(f"{root}{path}", not_found=endpoint.not_found)
                for name, root in bases.items()
            },
            seconds=seconds,
            rounds=rounds,
        )
        g, r, s, t = (figures[name].rps for name in ("gateway", "rooted", "sync", "gthread"))
        if endpoint is ARTICLE_LIST:
            gthread_list_rps = t
        target = None if endpoint.not_found else GATEWAY_OVER_SYNC
        lines.append(
            f"| {endpoint.name} | {g:.0f} | {r:.0f} | {s:.0f} | **{g / s:.2f}** "
            f"| **{r / s:.2f}** | {_target(target)} | {_met(min(g, r) / s, target)} "
            f"| {t:.0f} | **{g / t:.2f}** |"
        )
    return lines, gthread_list_rps


def _probe_verdict(p99_ratio: float, rps: float, gthread_list_rps: float | None) -> str:
    problems = []
    if p99_ratio > PROBE_P99_OVER_IDLE:
        problems.append(f"p99 / idle > {PROBE_P99_OVER_IDLE}")
    if gthread_list_rps is not None and rps < gthread_list_rps:
        problems.append(f"{rps:.0f} < gthread's {gthread_list_rps:.0f} req/s")
    met = verdict(not problems, "; ".join(problems))
    if gthread_list_rps is None:
        met += " (req/s not checked: no gunicorn section in this run)"
    return met


def _probed(url: str, load: Request | None, *, seconds: int, rounds: int) -> tuple[float, ...]:
    """The probe's p50, p99 and the load's req/s: medians of ``rounds`` runs (a p99 of one
    short run moves with every hiccup of a shared machine)."""
    runs = [probe_under_load(url, load, seconds=seconds) for _ in range(rounds)]
    return tuple(statistics.median(run[i] for run in runs) for i in range(3))


def probe_table(
    gateway: Server, control: Server, *, seconds: int, rounds: int, gthread_list_rps: float | None
) -> list[str]:
    """A /v2 probe's latency while legacy is saturated, against the same probe idle; the same
    for an identical gateway that does not carry the load (the control: what sharing the
    machine with that load costs any probe); and the gateway's memory at rest and under load."""
    probe_url = f"{gateway.base}/v2/api/tags"
    at_rest = rss_mib(gateway.pid)
    idle_p50, idle_p99, _ = _probed(probe_url, None, seconds=seconds, rounds=rounds)
    legacy = f"{gateway.base}/legacy/api"
    database_bound = Request(f"{legacy}/articles")
    cpu_bound = Request(f"{legacy}/users/login", "POST", body=login_body())
    target = f"p99 / idle ≤ {PROBE_P99_OVER_IDLE} and legacy req/s ≥ gthread's on the list"
    lines = [
        "| /v2/api/tags probe, every 20 ms | p50 ms | p99 ms | p99 / idle | legacy req/s "
        "| target | met |",
        "|---|---|---|---|---|---|---|",
        f"| idle | {idle_p50:.1f} | {idle_p99:.1f} | 1.00 | - | - | - |",
    ]
    peak = at_rest
    for name, load in (
        ("legacy article list (database-bound)", database_bound),
        ("legacy login (CPU-bound: argon2)", cpu_bound),
    ):
        p50, p99, rps = _probed(probe_url, load, seconds=seconds, rounds=rounds)
        peak = max(peak, rss_mib(gateway.pid))
        ratio = p99 / idle_p99
        if load is database_bound:
            cells = f"{target} | {_probe_verdict(ratio, rps, gthread_list_rps)}"
        else:
            cells = "none set | -"
        lines.append(f"| {name} | {p50:.1f} | {p99:.1f} | **{ratio:.2f}** | {rps:.0f} | {cells} |")
    control_url = f"{control.base}/v2/api/tags"
    control_idle = _probed(control_url, None, seconds=seconds, rounds=rounds)
    loaded = _probed(control_url, database_bound, seconds=seconds, rounds=rounds)
    lines += [
        f"| control: an identical gateway, idle | {control_idle[0]:.1f} "
        f"| {control_idle[1]:.1f} | 1.00 | - | - | - |",
        f"| control: an identical gateway, while the first one's legacy list is saturated "
        f"| {loaded[0]:.1f} | {loaded[1]:.1f} | **{loaded[1] / control_idle[1]:.2f}** "
        f"| {loaded[2]:.0f} | - | - |",
        "",
        "Medians of the rounds. The control rows probe a second, identical gateway that "
        "carries none of the legacy load, while that load runs in the first: what sharing two "
        "cores with it costs any probe, whatever runs in which process.",
        "",
        f"Gateway process memory: {at_rest:.0f} MiB at rest, {peak:.0f} MiB under load.",
    ]
    return lines
