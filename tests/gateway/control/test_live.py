"""Runtime changes reach every worker of a running ``gateway serve --workers 2``, no restart.

A change made with the CLI is served by both workers once each has reported its version;
requests sent all the while are each answered whole, by one side or the other, never failed.
A restart serves the runtime state, not the manifest's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, func, select

from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison, WorkerVersion
from tests.postgres import URL_VARIABLE
from tests.served import DEADLINE_SECONDS, children_once, gateway_serve
from tests.waiting import wait_until

# The production database, and the one whose transactions make changes visible in order.
pytestmark = [
    pytest.mark.database,
    pytest.mark.skipif(
        not os.environ.get(URL_VARIABLE), reason="run in the PostgreSQL pass (with two workers)"
    ),
]
MODULE = '[[module]]\nname = "pid"\npaths = ["/pid"]\n'


@contextmanager
def _records(records_url: str) -> Iterator[Connection]:
    """A connection to the gateway's records, as the gateway makes it (its schema)."""
    store = RecordStore(records_url)
    try:
        with store.engine.connect() as conn:
            yield conn
    finally:
        store.engine.dispose()


def _versions(records_url: str, workers: set[int]) -> dict[int, int]:
    """The version each of ``workers`` (pids) has reported applying."""
    with _records(records_url) as conn:
        rows = conn.execute(select(WorkerVersion.worker, WorkerVersion.version)).all()
    seen = {int(worker.rpartition(":")[2]): version for worker, version in rows}
    return {pid: version for pid, version in seen.items() if pid in workers}


def _cli(folder: Path, *args: str, status: int = 0) -> str:
    command = [sys.executable, "-m", "gateway.cli", *args]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == status, done.stdout + done.stderr
    return done.stdout + done.stderr


def _keep_asking(base: str, stop: threading.Event, answers: list[tuple[int, str]]) -> None:
    with httpx.Client(base_url=base, timeout=DEADLINE_SECONDS) as http:
        while not stop.is_set():
            answer = http.get("/legacy/pid")
            answers.append((answer.status_code, answer.headers["x-served-by"] + answer.text))


def test_a_change_reaches_every_worker_and_no_request_fails_meanwhile(
    tmp_path: Path, records_url: str
) -> None:
    flags = ("--workers", "2")
    with gateway_serve(tmp_path, *flags, records=records_url, modules=MODULE) as (proc, base):
        workers = children_once(proc.pid, 2)
        answers: list[tuple[int, str]] = []
        stop = threading.Event()
        asking = threading.Thread(target=_keep_asking, args=(base, stop, answers))
        asking.start()
        try:
            _cli(tmp_path, "set", "pid", "v2", "--reason", "cut over", "--by", "test")
            changed_at = time.monotonic()
            wait_until(
                lambda: (
                    set(_versions(records_url, workers).values()) == {1}
                    and len(_versions(records_url, workers)) == 2
                ),
                timeout=DEADLINE_SECONDS,
                message="both workers to apply version 1",
            )
            applied_after = time.monotonic() - changed_at
        finally:
            stop.set()
            asking.join(DEADLINE_SECONDS)
        with httpx.Client(base_url=base, timeout=DEADLINE_SECONDS) as fresh:
            after = [fresh.get("/legacy/pid", headers={"connection": "close"}) for _ in range(10)]

    assert answers
    assert all(status == 200 for status, _ in answers)
    # Each answer whole from one side: legacy's body says nothing of a side, v2's does.
    assert all(("v2" in body) == body.startswith("v2{") for _, body in answers)
    assert all(answer.headers["x-served-by"] == "v2" for answer in after)
    print(f"both workers applied the change {applied_after:.2f} s after the command returned")


def test_a_restart_serves_the_runtime_state(tmp_path: Path, records_url: str) -> None:
    with gateway_serve(tmp_path, records=records_url, modules=MODULE):
        _cli(tmp_path, "set", "pid", "v2", "--reason", "cut over")
    with gateway_serve(tmp_path, records=records_url, modules=MODULE) as (_, base):
        served = [httpx.get(f"{base}/legacy/pid").headers["x-served-by"] for _ in range(5)]

    assert served == ["v2"] * 5  # the manifest still says legacy


CANARY_THAT_FAILS = """
[[module]]
name = "boom"
paths = ["/boom"]
state = "canary"
canary_percent = 100

[module.rollback]
min_requests = 5
window_seconds = 60
"""


def test_a_v2_failing_in_canary_is_rolled_back_by_the_gateway(
    tmp_path: Path, records_url: str
) -> None:
    flags = ("--workers", "2")
    modules = CANARY_THAT_FAILS
    with (
        gateway_serve(tmp_path, *flags, records=records_url, modules=modules) as (_, base),
        httpx.Client(base_url=base, timeout=DEADLINE_SECONDS) as http,
    ):

        def on_legacy() -> httpx.Response | None:
            answer = http.get("/legacy/boom")  # v2's 500s until the gateway steps in
            return answer if answer.headers["x-served-by"] == "legacy" else None

        answer = wait_until(on_legacy, timeout=DEADLINE_SECONDS, message="a rollback")
        history = _cli(tmp_path, "history", "boom")

    assert answer.status_code == 200
    (line,) = history.splitlines()  # one worker acted
    assert "boom: canary 100% -> legacy  [automatic] by gateway: v2 error rate 1.0000" in line


SHADOWED = """
[[module]]
name = "pid"
paths = ["/pid"]
state = "shadow"
shadow_sample_rate = 1.0

[module.gates]
min_samples = 5
"""


def _comparisons(records_url: str) -> int:
    with _records(records_url) as conn:
        return conn.execute(select(func.count()).select_from(ShadowComparison)).scalar_one()


def test_promotion_is_refused_on_too_few_samples_then_on_a_failing_gate(
    tmp_path: Path, records_url: str
) -> None:
    with gateway_serve(tmp_path, records=records_url, modules=SHADOWED) as (_, base):
        too_few = _cli(tmp_path, "promote", "pid", "--percent", "10", "--reason", "try", status=1)
        with httpx.Client(base_url=base, timeout=DEADLINE_SECONDS) as http:
            for _ in range(8):
                assert http.get("/legacy/pid").status_code == 200
        wait_until(
            lambda: _comparisons(records_url) == 8,
            timeout=DEADLINE_SECONDS,
            message="8 comparisons",
        )
        failing = _cli(tmp_path, "promote", "pid", "--percent", "10", "--reason", "try", status=1)
        forced = _cli(tmp_path, "promote", "pid", "--percent", "10", "--reason", "go", "--force")

    assert "samples: inconclusive (measured 0, needs >= 5, 0 samples)" in too_few
    # v2 answers /pid with another body: nothing matches.
    assert "match rate: fail (measured 0.0000 (0/8 matched" in failing
    assert "needs >= 0.99, 8 samples)" in failing
    assert "(version 1, forced)" in forced
