"""``/metrics`` of a running ``gateway serve --workers 2``: N workers report as one.

The counts are the requests sent, whichever worker answered each; a change made with the CLI
shows in the state and change metrics; a worker killed and replaced keeps its counts, and its
files are folded away rather than read by every scrape after it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from prometheus_client import values
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics.multiprocess import folder, serving
from tests.postgres import URL_VARIABLE
from tests.served import DEADLINE_SECONDS, children_once, gateway_serve
from tests.waiting import wait_until

TOKEN = "operators-token-0123456789"
MODULE = '[[module]]\nname = "pid"\npaths = ["/pid"]\n'
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
LEGACY_2XX = (
    "gateway_requests_total",
    (("module", "pid"), ("side", "legacy"), ("status_class", "2xx")),
)
V2_2XX = ("gateway_requests_total", (("module", ""), ("side", "v2"), ("status_class", "2xx")))


def _scrape(base: str) -> Samples:
    answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _ask(base: str, path: str, times: int) -> set[int]:
    """``times`` requests, each on a connection of its own; the pids that answered."""
    pids = set()
    for _ in range(times):
        answer = httpx.get(f"{base}{path}", headers={"Connection": "close"})
        assert answer.status_code == 200, answer.text
        pids.add(answer.json()["pid"])
    return pids


def _until_each_answers(base: str, workers: set[int]) -> int:
    """Requests to legacy until every worker has answered some (the kernel hands a new
    connection to either); how many were sent."""
    answered: set[int] = set()
    sent = 0
    while answered != workers:
        assert sent < 400, f"only {answered} of {workers} answered"
        answered |= _ask(base, "/legacy/pid", 10)
        sent += 10
    return sent


@pytest.mark.database
@pytest.mark.skipif(not os.environ.get(URL_VARIABLE), reason="run in the PostgreSQL pass")
def test_the_counts_of_both_workers_are_the_requests_sent(tmp_path: Path, records_url: str) -> None:
    flags = ("--workers", "2", "--admin-token", TOKEN)
    with gateway_serve(tmp_path, *flags, records=records_url, modules=MODULE) as (proc, base):
        workers = children_once(proc.pid, 2)
        sent = _until_each_answers(base, workers)
        _ask(base, "/v2/pid", 7)
        command = [sys.executable, "-m", "gateway.cli", "set", "pid", "v2", "--reason", "moved"]
        subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=60)

        def moved() -> Samples | None:
            now = _scrape(base)
            return now if now[("gateway_module_state", (("module", "pid"),))] == 3 else None

        # Each scrape is answered by either worker: both must have followed the change.
        scrapes = [wait_until(moved, timeout=DEADLINE_SECONDS, message="v2") for _ in range(6)]

    for samples in scrapes:
        assert samples[LEGACY_2XX] == sent
        assert samples[V2_2XX] == 7
        duration = (
            "gateway_request_duration_seconds_count",
            (("module", "pid"), ("side", "legacy")),
        )
        assert samples[duration] == sent
        changes = ("gateway_state_changes_total", (("kind", "manual"), ("module", "pid")))
        assert samples[changes] == 1


@pytest.mark.skipif(bool(os.environ.get(URL_VARIABLE)), reason="run in the SQLite pass")
def test_a_dead_workers_counts_are_kept_and_its_files_folded(tmp_path: Path) -> None:
    flags = ("--workers", "2", "--admin-token", TOKEN)
    with gateway_serve(tmp_path, *flags, modules=MODULE) as (proc, base):
        workers = children_once(proc.pid, 2)
        sent = _until_each_answers(base, workers)
        (metrics_folder,) = Path(tempfile.gettempdir()).glob(f"gateway-metrics-{proc.pid}-*")
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        children_once(proc.pid, 2)  # replaced
        wait_until(
            lambda: not list(metrics_folder.glob(f"*_{killed}.db")),
            timeout=DEADLINE_SECONDS,
            message=f"the files of {killed} folded",
        )
        after = _scrape(base)
        archives = sorted(path.name for path in metrics_folder.glob("*_archive.db"))

    assert after[LEGACY_2XX] == sent
    assert archives == ["counter_archive.db", "histogram_archive.db"]
    assert not metrics_folder.exists()  # removed when gateway serve stopped


def test_each_start_has_a_fresh_folder_and_removes_those_of_dead_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    ended = [sys.executable, "-c", "import os; print(os.getpid())"]
    dead = subprocess.run(ended, capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f"gateway-metrics-{dead}-abc"
    live = tmp_path / f"gateway-metrics-{os.getppid()}-def"  # a start still running
    for kept in (stale, live):
        kept.mkdir()
        (kept / "counter_1.db").write_bytes(b"")
    single_process = values.ValueClass

    with serving() as made:
        assert folder() == made
        assert made.parent == tmp_path
        assert list(made.iterdir()) == []
        assert not stale.exists()
        assert live.exists()
        assert values.ValueClass is not single_process

    assert not made.exists()
    assert folder() is None
    assert values.ValueClass is single_process  # as before: later apps count in-process
