"""What shadowing costs the client: the legacy article list on three more gateways, the
articles module in state legacy (the baseline), then shadowed at 10 % and at 100 %.

Each gateway is a real ``gateway serve`` from a manifest written here: migration.toml's
``[gateway]`` table and its articles paths, under a module name per configuration, so the
comparisons each one records are told apart afterwards by ``gateway parity``. Rounds
alternate between the three; after every run the next waits until all three are quiet (a
shadow still replaying its queue would slow the next run, whichever server it measures).
A shadow that recorded no comparisons, or far fewer than its sample rate asks, fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from load import Figures, Request, interleaved
from servers import BIN, MANIFEST, gateway, tree_rss_mib, wait_quiet
from targets import SHADOW_P99_OVER_OFF, at_most, verdict

WARM_UP = 20  # sequential GETs per server before the first round


@dataclass(frozen=True)
class Config:
    label: str
    module: str  # the articles module's name in this manifest
    state: str
    rate: float
    writes: bool = False  # shadow_writes: sampled writes answered by v2 first, rolled back


CONFIGS = (
    Config("shadow off (articles: legacy)", "articles", "legacy", 0.0),
    Config("shadow 10 %", "articles-shadow-10", "shadow", 0.1),
    Config("shadow 100 %", "articles-shadow-100", "shadow", 1.0),
)
BASELINE, AT_10, AT_100 = CONFIGS


@dataclass(frozen=True)
class Records:
    comparisons: int
    matched: str  # "98.0%", or "-" with no comparisons
    errors: int
    dropped: int


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return json.dumps(value)  # a TOML basic string, integer or float
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise ValueError(f"{MANIFEST}: cannot copy the [gateway] value {value!r}")


def manifest_text(config: Config) -> str:
    """migration.toml's [gateway] table and articles paths; one module, in this state."""
    source = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    articles = next(m for m in source["module"] if m["name"] == "articles")
    lines = ["[gateway]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in source["gateway"].items()]
    lines += ["", "[[module]]", f'name = "{config.module}"']
    lines += [f"paths = {_toml_value(articles['paths'])}", f'state = "{config.state}"']
    if config.state == "shadow":
        lines.append(f"shadow_sample_rate = {config.rate}")
    if config.writes:
        lines += ["shadow_writes = true", 'write_ignore = ["users.password_hash"]']
    return "\n".join(lines) + "\n"


_PARITY = re.compile(
    r"^(?P<module>\S+) \(\w+\): (?P<comparisons>\d+) comparisons, (?P<matched>\S+) matched, "
    r"(?P<errors>\d+) errors, (?P<dropped>\d+) dropped$",
    re.MULTILINE,
)


def parity_report(env: Mapping[str, str], manifest: Path) -> str:
    """What ``gateway parity`` says of the manifest's modules."""
    return subprocess.run(
        [str(BIN / "gateway"), "parity", "--manifest", str(manifest)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def read_records(env: Mapping[str, str], manifest: Path, module: str) -> Records:
    """The module's shadow records, as ``gateway parity`` reads them."""
    output = parity_report(env, manifest)
    for found in _PARITY.finditer(output):
        if found["module"] == module:
            return Records(
                int(found["comparisons"]),
                found["matched"],
                int(found["errors"]),
                int(found["dropped"]),
            )
    raise RuntimeError(f"`gateway parity` names no module {module!r}:\n{output}")


def _warm_up(url: str) -> None:
    with httpx.Client(timeout=30) as http:
        for _ in range(WARM_UP):
            http.get(url).raise_for_status()


def _ran(config: Config, records: Records, sent: int) -> tuple[bool, str]:
    """Whether the shadow worked, and accounted for every sample: replayed, or counted as
    dropped (the replay runs on idle CPU only, so a saturated machine drops samples)."""
    if records.comparisons == 0:
        return False, "no shadow comparisons recorded"
    accounted = records.comparisons + records.dropped
    # Sampling is random: allow for its spread around rate x requests.
    if accounted < 0.7 * config.rate * sent:
        return False, f"only {accounted} of ~{config.rate * sent:.0f} samples accounted for"
    return True, ""


def _row(config: Config, figures: Figures, off: Figures, records: Records, sent: int) -> str:
    ratio = figures.p99_ms / off.p99_ms
    ran, why = _ran(config, records, sent)
    target = {BASELINE: "-", AT_100: f"p99 / off ≤ {SHADOW_P99_OVER_OFF}"}.get(config, "none set")
    if config is BASELINE:
        met = verdict(records.comparisons == 0, "the baseline recorded comparisons")
    elif not ran:
        met = verdict(False, why)
    else:
        met = at_most(ratio, SHADOW_P99_OVER_OFF) if config is AT_100 else "-"
    replayed = records.comparisons / sent if sent else 0.0
    return (
        f"| {config.label} | {figures.rps:.0f} | {figures.p50_ms:.1f} | {figures.p99_ms:.1f} "
        f"| **{ratio:.2f}** | {target} | {met} | {records.comparisons} ({records.matched}) "
        f"| {records.errors} | {records.dropped} | {replayed:.0%} of {sent} |"
    )


def write_manifests(folder: Path, configs: Sequence[Config]) -> dict[Config, Path]:
    """Each config's manifest, written in ``folder``."""
    manifests = {}
    for config in configs:
        manifests[config] = folder / f"{config.module}.toml"
        manifests[config].write_text(manifest_text(config), encoding="utf-8")
    return manifests


def shadow_table(env: Mapping[str, str], *, seconds: int, rounds: int) -> list[str]:
    path = "/legacy/api/articles"
    with tempfile.TemporaryDirectory(prefix="bench-shadow-") as folder:
        manifests = write_manifests(Path(folder), CONFIGS)
        with ExitStack() as stack:
            servers = {c: stack.enter_context(gateway(env, manifests[c])) for c in CONFIGS}
            pids = [server.pid for server in servers.values()]
            for server in servers.values():
                _warm_up(server.base + path)
            wait_quiet(pids)
            figures = interleaved(
                {c.label: Request(servers[c].base + path) for c in CONFIGS},
                seconds=seconds,
                rounds=rounds,
                settle=lambda: wait_quiet(pids),
            )
            memory = {c: tree_rss_mib(servers[c].pid) for c in CONFIGS}
        # Stopped: each flushed its count of dropped samples on the way out.
        records = {c: read_records(env, manifests[c], c.module) for c in CONFIGS}
    off = figures[BASELINE.label]
    lines = [
        f"| client GET {path} | req/s | p50 ms | p99 ms | p99 / off | target | met "
        "| comparisons (matched) | v2 errors | dropped | replayed / requests |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for config in CONFIGS:
        sent = figures[config.label].requests + WARM_UP
        lines.append(_row(config, figures[config.label], off, records[config], sent))
    rss = ", ".join(f"{c.label} {memory[c]:.0f} MiB" for c in CONFIGS)
    lines += [
        "",
        "Comparisons, v2 errors and dropped samples as `gateway parity` reads them once the "
        "servers stopped. Samples are replayed by a process of their own at the kernel's idle "
        "priority: under saturation it replays what spare CPU allows and counts the rest as "
        "dropped; a shadow passes only if replayed + dropped ≥ 0.7 x its sample rate x "
        f"requests (wrk's completed ones and {WARM_UP} warm-up GETs). Memory after the runs "
        f"(gateway and replay process): {rss}.",
    ]
    return lines
