"""The deployments section's table: one column per setup, its figures and its ratios to the
two-service deployment (the first setup), with the targets those ratios are held to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from burst import BurstFigures
from targets import (
    DEPLOY_LEGACY_OVER_TWO_SERVICES,
    DEPLOY_PROBE_OVER_TWO_SERVICES,
    DEPLOY_PSS_OVER_TWO_SERVICES,
    DEPLOY_V2_BOTH_OVER_TWO_SERVICES,
    PROBE_P99_OVER_IDLE,
    at_least,
    at_most,
    verdict,
)


@dataclass(frozen=True)
class Measured:
    name: str
    figures: dict[str, float] | None  # medians of the rounds; None: no round completed
    burst: BurstFigures | None
    skipped: str | None  # why some or all of it is missing


Cell = Callable[[dict[str, float]], str]
# The figures' rows: a label, and how a setup's medians make its cell.
FIGURE_ROWS: tuple[tuple[str, Cell], ...] = (
    ("processes (all trees)", lambda f: f"{f['processes']:.0f}"),
    ("legacy list alone, req/s", lambda f: f"{f['legacy alone']:.0f}"),
    ("v2 list alone, req/s", lambda f: f"{f['v2 alone']:.0f}"),
    ("both at once: legacy list, req/s", lambda f: f"{f['legacy both']:.0f}"),
    ("both at once: v2 list, req/s", lambda f: f"{f['v2 both']:.0f}"),
    ("/v2 probe idle, p50 / p99 ms", lambda f: f"{f['idle p50']:.1f} / {f['idle p99']:.1f}"),
    (
        "/v2 probe, legacy list saturated, p50 / p99 ms",
        lambda f: f"{f['loaded p50']:.1f} / {f['loaded p99']:.1f}",
    ),
    ("legacy list req/s while saturated", lambda f: f"{f['legacy saturated']:.0f}"),
    ("memory after the loads: PSS (RSS) MiB", lambda f: f"{f['pss']:.0f} ({f['rss']:.0f})"),
)


def _probe_ratio(figures: dict[str, float]) -> float:
    return figures["loaded p99"] / figures["idle p99"]


def _probe_cell(figures: dict[str, float], baseline: dict[str, float] | None) -> str:
    ratio = _probe_ratio(figures)
    problems = []
    if ratio > PROBE_P99_OVER_IDLE:
        problems.append(f"> {PROBE_P99_OVER_IDLE}")
    if baseline is None:
        problems.append("no two-services ratio")
    elif ratio > _probe_ratio(baseline) * DEPLOY_PROBE_OVER_TWO_SERVICES:
        problems.append(f"> {DEPLOY_PROBE_OVER_TWO_SERVICES} x two-services'")
    return f"**{ratio:.2f}** {verdict(not problems, ', '.join(problems))}"


def _ratio_cells(
    figures: dict[str, float], baseline: dict[str, float]
) -> dict[str, tuple[float, str]]:
    """Per ratio row: the value, and whether it meets its target."""
    v2 = figures["v2 both"] / baseline["v2 both"]
    legacy = figures["legacy alone"] / baseline["legacy alone"]
    pss = figures["pss"] / baseline["pss"]
    return {
        "v2": (v2, at_least(v2, DEPLOY_V2_BOTH_OVER_TWO_SERVICES)),
        "legacy": (legacy, at_least(legacy, DEPLOY_LEGACY_OVER_TWO_SERVICES)),
        "pss": (pss, at_most(pss, DEPLOY_PSS_OVER_TWO_SERVICES)),
    }


RATIO_ROWS = (
    ("v2", "v2 list req/s, both at once / two-services'", DEPLOY_V2_BOTH_OVER_TWO_SERVICES, "≥"),
    ("legacy", "legacy list req/s alone / two-services'", DEPLOY_LEGACY_OVER_TWO_SERVICES, "≥"),
    ("pss", "memory (PSS) / two-services'", DEPLOY_PSS_OVER_TWO_SERVICES, "≤"),
)


def _burst_cell(figures: BurstFigures | None) -> str:
    if figures is None:
        return "-"
    return (
        f"{figures.served} / {figures.refused} / {figures.other}, {figures.seconds:.1f} s, "
        f"no 503: {verdict(figures.refused == 0)}"
    )


def _row(label: str, target: str, cells: list[str]) -> str:
    return f"| {label} | {target} | {' | '.join(cells)} |"


def report(measured: list[Measured], *, rounds: int, saturating: int) -> list[str]:
    baseline = measured[0].figures
    lines = [
        _row("deployment", "target", [m.name for m in measured]),
        "|---|---|" + "---|" * len(measured),
    ]
    for label, cell in FIGURE_ROWS:
        lines.append(_row(label, "-", [cell(m.figures) if m.figures else "-" for m in measured]))
    lines.append(
        _row(
            "/v2 probe p99, saturated / idle",
            f"≤ {PROBE_P99_OVER_IDLE} and ≤ {DEPLOY_PROBE_OVER_TWO_SERVICES} x two-services'",
            [f"{_probe_ratio(m.figures):.2f}" if m.figures else "-" for m in measured[:1]]
            + [_probe_cell(m.figures, baseline) if m.figures else "-" for m in measured[1:]],
        )
    )
    ratios = [
        _ratio_cells(m.figures, baseline) if m.figures and baseline else None for m in measured
    ]
    for key, label, target, sign in RATIO_ROWS:
        cells = ["1.00" if baseline else "-"]
        cells += [f"**{r[key][0]:.2f}** {r[key][1]}" if r else "-" for r in ratios[1:]]
        lines.append(_row(label, f"{sign} {target}", cells))
    bursts = [_burst_cell(m.burst) for m in measured]
    lines.append(_row("write burst: served / 503 / other, time", "no 503", bursts))
    lines += ["", _explained(rounds, saturating)]
    lines += [f"- {m.name}: {m.skipped}" for m in measured if m.skipped]
    return lines


def _explained(rounds: int, saturating: int) -> str:
    return (
        "two-services: nginx (1 worker, upstream keepalive) in front of gunicorn (4 sync "
        "workers, legacy) and uvicorn (2 workers, v2); gateway -wN: `gateway serve --workers "
        'N`; "processes 4": with GATEWAY_LEGACY_PROCESSES=4. Each setup runs alone while '
        f"measured; medians of {rounds} rounds, in rotating order. The probe asks for "
        f"/v2/api/tags every 20 ms; saturated: wrk with {saturating} connections on the legacy "
        "list. Memory: Pss of smaps_rollup (and VmRSS) summed over every process of the setup "
        "(pages shared with processes outside it, such as the python binary's, are divided "
        "with those too). The burst: bench/burst.py's 100 writes, once per setup, after the "
        "rounds."
    )
