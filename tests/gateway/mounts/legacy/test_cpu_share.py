"""The number of legacy requests in the app follows what its views do: views that compute get
one at a time (more only slow v2), views that wait get every thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx
import pytest

from gateway.mounts.legacy.cpu_share import cpu_outside_this_thread, next_limit
from gateway.mounts.legacy.mount import LegacyMount
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.gateways import conduit_gateway
from tests.serving import running_server
from tests.waiting import wait_until

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

DEADLINE_SECONDS = 30


@pytest.mark.parametrize(
    ("limit", "used", "waiting", "expected"),
    [
        (4, 0.9, 0, 3),  # computing past the share: one fewer
        (1, 3.0, 5, 1),  # never below one
        (2, 0.1, 3, 3),  # waiting, with requests queued: one more
        (8, 0.1, 3, 8),  # never past the ceiling
        (2, 0.1, 0, 2),  # nobody queued: no reason to grow
        (1, 0.6, 3, 1),  # one computing request: a second would pass the share
        (3, 0.5, 3, 4),  # 0.5 / 3 each: a fourth still fits (0.67)
        (4, 0.7, 3, 4),  # a fifth would not (0.875)
    ],
)
def test_the_limit_moves_one_step_towards_the_share(
    limit: int, used: float, waiting: int, expected: int
) -> None:
    assert next_limit(limit, used=used, share=0.75, waiting=waiting, ceiling=8) == expected


def test_the_limit_grows_only_after_a_window_the_app_spent_full() -> None:
    # A load starting after an idle window: its requests wait for a turn, but the window's
    # low CPU says nothing about them.
    assert next_limit(1, used=0.0, share=0.75, waiting=7, ceiling=8, full=False) == 1
    assert next_limit(1, used=0.0, share=0.75, waiting=7, ceiling=8, full=True) == 2


def test_the_cpu_counted_is_the_processs_outside_the_calling_thread() -> None:
    done = threading.Event()

    def burn() -> None:  # another thread computing, as a legacy view (or its library) does
        while not done.is_set():
            sum(range(1000))

    first = cpu_outside_this_thread()
    worker = threading.Thread(target=burn)
    worker.start()
    try:
        # This thread waits; the other one computes, and its time counts.
        wait_until(
            lambda: cpu_outside_this_thread() - first >= 0.05,
            timeout=DEADLINE_SECONDS,
            interval=0.01,
            message="the other thread's CPU time to count",
        )
    finally:
        done.set()
        worker.join(DEADLINE_SECONDS)

    start, mine = cpu_outside_this_thread(), time.thread_time()
    while time.thread_time() - mine < 0.2:  # now this thread computes, alone
        sum(range(1000))

    assert cpu_outside_this_thread() - start < 0.1  # its own time is left out


class Views:
    """/burn computes for a few ms; /wait waits for ``release`` after saying it entered."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/burn":
            sum(i * i for i in range(100_000))
        elif environ["PATH_INFO"] == "/wait":
            self.entered.release()
            self.release.wait(DEADLINE_SECONDS)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def test_views_that_compute_run_one_at_a_time(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    # A share so small that any computing view exceeds it, however busy the machine.
    app = conduit_gateway(
        settings, database, records, legacy=Views(), legacy_threads=8, legacy_cpu_share=0.01
    )
    mount: LegacyMount = app.state.legacy
    limits: list[int] = []
    with running_server(app) as url:
        mount.admission.limit = 8

        def client() -> None:
            with httpx.Client(base_url=url, timeout=DEADLINE_SECONDS) as http:

                def down_to_one() -> bool:
                    if mount.admission.limit <= 1:
                        return True
                    assert http.get("/legacy/burn").status_code == 200
                    return False

                # Requests back to back, keeping the app computing, until the limit falls.
                wait_until(
                    down_to_one,
                    timeout=DEADLINE_SECONDS,
                    interval=0,
                    message="the legacy limit to fall to one",
                )
                limits.append(mount.admission.limit)

        with ThreadPoolExecutor(8) as pool:
            for future in [pool.submit(client) for _ in range(8)]:
                future.result()

    assert limits == [1] * 8


def test_views_that_wait_get_every_thread(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    views = Views()
    app = conduit_gateway(
        settings, database, records, legacy=views, legacy_threads=4, legacy_cpu_share=0.75
    )
    mount: LegacyMount = app.state.legacy
    try:
        with running_server(app) as url, ThreadPoolExecutor(4) as pool:
            assert mount.admission.limit == 1  # it starts from one and grows while they wait
            held = [
                pool.submit(httpx.get, f"{url}/legacy/wait", timeout=DEADLINE_SECONDS)
                for _ in range(4)
            ]
            entered = [views.entered.acquire(timeout=DEADLINE_SECONDS) for _ in range(4)]
            limit = mount.admission.limit
            views.release.set()
            statuses = [future.result(DEADLINE_SECONDS).status_code for future in held]
    finally:
        views.release.set()

    assert entered == [True] * 4  # all four in the app at once
    assert limit == 4
    assert statuses == [200] * 4
