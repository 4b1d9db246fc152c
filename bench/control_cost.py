"""What the control plane adds to one request, measured in isolation (run as a script).

Prints JSON: the microseconds per request of reading the live snapshot (and finding the
module from it), and of counting an answer for ``/metrics`` in prometheus-client's
multiprocess mode, as ``gateway serve`` runs it (the counter, the histogram, and the legacy
turn gauges set on entering and leaving), with the two clock reads around the request. Run
in a process of its own: the multiprocess mode is chosen for the whole interpreter.
"""

from __future__ import annotations

import json
import timeit
from pathlib import Path
from time import perf_counter

from gateway.config.manifest import load_manifest
from gateway.control.live import Live
from gateway.control.settings import Snapshot
from gateway.metrics import multiprocess
from gateway.metrics.instruments import Metrics

MANIFEST = Path(__file__).resolve().parents[1] / "migration.toml"
PATH = "/api/articles"
CALLS = 200_000


def _per_call_us(statement: str, namespace: dict[str, object]) -> float:
    """The best of five runs, per call: the floor, which load on the machine only raises."""
    timer = timeit.Timer(statement, globals=namespace)
    return min(timer.repeat(repeat=5, number=CALLS)) / CALLS * 1e6


def main() -> None:
    manifest = load_manifest(MANIFEST)
    live = Live(Snapshot(1, manifest))
    # What the router reads on each request now, against the manifest it held before.
    lookup = _per_call_us("live.snapshot.manifest", {"live": live})
    direct = _per_call_us("manifest", {"manifest": manifest})
    finding = _per_call_us("manifest.module_for(PATH)", {"manifest": manifest, "PATH": PATH})
    with multiprocess.serving():  # counting into files, as under gateway serve
        metrics = Metrics()
        namespace = {"metrics": metrics, "clock": perf_counter}
        counting = _per_call_us(
            "started = clock(); metrics.answered('articles', 'legacy', 200, clock() - started)",
            namespace,
        )
        turns = _per_call_us("metrics.legacy_turns(1, 0); metrics.legacy_turns(0, 0)", namespace)
    print(
        json.dumps(
            {
                "snapshot_lookup_us": lookup - direct,
                "module_for_us": finding,
                "metrics_answer_us": counting,
                "metrics_turns_us": turns,
            }
        )
    )


if __name__ == "__main__":
    main()
