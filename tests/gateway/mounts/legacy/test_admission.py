"""Bounded legacy concurrency: a few requests run in the legacy app, a few wait with a
deadline, the rest are refused at once; v2 answers throughout."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.gateways import conduit_gateway
from tests.serving import running_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# Every wait in these tests is bounded: a broken gate fails the test, never hangs it.
DEADLINE_SECONDS = 30


class HeldApp:
    """A WSGI app whose /held requests wait for ``release`` (after saying they entered)."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/held":
            self.entered.release()
            if not self.release.wait(DEADLINE_SECONDS):
                raise RuntimeError("the test never released the held request")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done\n"]


@contextmanager
def gateway(
    settings: Settings, database: Database, records: RecordStore, app: HeldApp, **options: object
) -> Iterator[str]:
    served = conduit_gateway(settings, database, records, legacy=app, **options)
    try:
        with running_server(served) as url:
            yield url
    finally:
        app.release.set()


def _held(pool: ThreadPoolExecutor, url: str, app: HeldApp) -> Future[httpx.Response]:
    """A /held request, returned once the legacy app has it on a thread."""
    future = pool.submit(httpx.get, f"{url}/legacy/held", timeout=DEADLINE_SECONDS)
    assert app.entered.acquire(timeout=DEADLINE_SECONDS), "the held request never arrived"
    return future


def test_past_the_threads_and_the_queue_a_request_is_refused_at_once(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = HeldApp()
    with (
        gateway(settings, database, records, app, legacy_threads=1, legacy_queue=0) as url,
        ThreadPoolExecutor(2) as pool,
    ):
        held = _held(pool, url, app)
        refused = httpx.get(f"{url}/legacy/other", timeout=DEADLINE_SECONDS)
        v2 = httpx.get(f"{url}/v2/api/tags", timeout=DEADLINE_SECONDS)
        app.release.set()
        finished = held.result(timeout=DEADLINE_SECONDS)
        after = httpx.get(f"{url}/legacy/other", timeout=DEADLINE_SECONDS)

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    # In the shape the manifest configures for the gateway's own answers (Conduit's).
    assert refused.json() == {"errors": {"server": ["service unavailable"]}}
    assert v2.status_code == 200  # v2 does not share the legacy app's threads
    assert (finished.status_code, finished.text) == (200, "done\n")
    assert (after.status_code, after.text) == (200, "done\n")


def test_a_queued_request_runs_when_a_thread_frees_up(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = HeldApp()
    with (
        gateway(settings, database, records, app, legacy_threads=1, legacy_queue=1) as url,
        ThreadPoolExecutor(2) as pool,
    ):
        held = _held(pool, url, app)
        queued = pool.submit(httpx.get, f"{url}/legacy/other", timeout=DEADLINE_SECONDS)
        app.release.set()
        responses = [held.result(DEADLINE_SECONDS), queued.result(DEADLINE_SECONDS)]

    assert [(r.status_code, r.text) for r in responses] == [(200, "done\n")] * 2


def test_a_queued_request_waits_no_longer_than_its_deadline(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = HeldApp()
    options = {
        "legacy_threads": 1,
        "legacy_queue": 1,
        "legacy_queue_seconds": 0.2,
        "errors": "problem",  # RFC 9457, which carries the gateway's detail
    }
    with gateway(settings, database, records, app, **options) as url, ThreadPoolExecutor(2) as pool:
        held = _held(pool, url, app)
        # The thread stays held for as long as this request takes: it can only end by the
        # queue's deadline.
        waited = httpx.get(f"{url}/legacy/other", timeout=DEADLINE_SECONDS)
        app.release.set()
        finished = held.result(timeout=DEADLINE_SECONDS)

    assert waited.status_code == 503
    assert waited.headers["content-type"] == "application/problem+json"
    assert waited.json()["detail"] == (
        "the legacy app is at capacity (no turn in the legacy app within 0.2 s)"
    )
    assert finished.status_code == 200
