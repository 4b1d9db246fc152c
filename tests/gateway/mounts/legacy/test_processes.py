"""``legacy_processes``: the legacy app served by processes of its own, through real servers.

The app sees the environ it would see on threads; gunicorn replaces a worker that dies or
is stuck past the timeout, the gateway its arbiter; v2 answers while every legacy process
is busy; a request whose client leaves while no process is free never runs; ``gateway
serve`` shares one set of processes between its workers and takes them down with it, even
when it is killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from starlette.types import Message

from gateway.mounts.legacy.admission import ClientGone
from gateway.mounts.legacy.pool import LegacyProcesses
from gateway.mounts.legacy.remote import ProcessBridge
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.forked import SHARED
from tests.gateways import conduit_gateway
from tests.served import DEADLINE_SECONDS, children, children_once, gateway_serve, gone
from tests.serving import running_server
from tests.waiting import wait_until

# What it tests does not depend on the database: the SQLite pass runs it.
pytestmark = pytest.mark.any_database

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

HELD = SHARED.Event()
ENTERED = SHARED.Semaphore(0)
ARRIVED = SHARED.SimpleQueue()  # every path that reached the app


def _app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    ARRIVED.put(path)
    if path == "/environ":
        body = environ["wsgi.input"].read()
        seen = {k: v for k, v in environ.items() if isinstance(v, str)}
        answer = {
            "environ": seen,
            "body": body.decode(),
            "multiprocess": environ["wsgi.multiprocess"],
        }
    elif path == "/held":
        ENTERED.release()
        answer = {"released": HELD.wait(DEADLINE_SECONDS)}
    else:
        answer = {"pid": os.getpid()}
    data = json.dumps(answer).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


@contextmanager
def _serving(
    settings: Settings, database: Database, records: RecordStore, **options: Any
) -> Iterator[httpx.Client]:
    HELD.clear()
    app = conduit_gateway(settings, database, records, legacy=_app, **options)
    try:
        with (
            running_server(app) as url,
            httpx.Client(base_url=url, timeout=DEADLINE_SECONDS) as http,
        ):
            yield http
    finally:
        HELD.set()


def _environ_seen(http: httpx.Client) -> dict[str, Any]:
    answer = http.post(
        "/legacy/environ?a=1&b=%C3%A9",
        content=b"field=value",
        headers={
            "Host": "legacy.test",
            "Cookie": "session=abc",
            "X-Custom": "yes",
            "Content-Type": "text/plain",
        },
    )
    assert answer.status_code == 200
    seen: dict[str, Any] = answer.json()
    seen["environ"].pop("REMOTE_PORT")  # each connection has its own
    # Each server listens on a port of its own.
    assert seen["environ"].pop("SERVER_PORT") == str(http.base_url.port)
    return seen


def test_the_app_sees_the_environ_it_sees_on_threads(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    with _serving(settings, database, records, legacy_processes=0) as http:
        on_threads = _environ_seen(http)
    with _serving(settings, database, records, legacy_processes=2) as http:
        in_processes = _environ_seen(http)

    assert in_processes["environ"] == on_threads["environ"]
    assert in_processes["environ"]["SCRIPT_NAME"] == "/legacy"
    assert in_processes["environ"]["QUERY_STRING"] == "a=1&b=%C3%A9"
    assert in_processes["body"] == on_threads["body"] == "field=value"
    assert in_processes["multiprocess"] is True


def test_a_killed_worker_is_replaced_and_requests_go_on(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    with _serving(settings, database, records, legacy_processes=1) as http:
        first = http.get("/legacy/pid").json()["pid"]
        assert first != os.getpid()
        os.kill(first, signal.SIGKILL)
        # The next request waits for gunicorn's replacement to take it.
        after = http.get("/legacy/pid")

    assert after.status_code == 200
    assert after.json()["pid"] != first


def test_a_view_stuck_past_the_timeout_gets_a_504_and_its_worker_is_replaced(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    options = {"legacy_processes": 1, "legacy_timeout_seconds": 1}
    with _serving(settings, database, records, **options) as http:
        stuck = http.get("/legacy/held")
        after = http.get("/legacy/pid")

    assert stuck.status_code == 504
    assert stuck.json() == {"errors": {"server": ["gateway timeout"]}}  # in Conduit's shape
    assert after.status_code == 200


def test_v2_answers_while_every_legacy_process_is_busy(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    with (
        _serving(settings, database, records, legacy_processes=2) as http,
        ThreadPoolExecutor(2) as pool,
    ):
        held = [pool.submit(http.get, "/legacy/held") for _ in range(2)]
        for _ in held:
            assert ENTERED.acquire(timeout=DEADLINE_SECONDS), "a held request never arrived"
        v2 = http.get("/v2/api/tags")
        HELD.set()
        answers = [future.result(DEADLINE_SECONDS) for future in held]

    assert v2.status_code == 200
    assert [a.json() for a in answers] == [{"released": True}] * 2


def test_gateway_serve_shares_one_set_of_processes_between_its_workers(tmp_path: Path) -> None:
    flags = ("--workers", "2", "--legacy-processes", "2")
    with gateway_serve(tmp_path, *flags) as (proc, base):
        with httpx.Client(base_url=base, timeout=DEADLINE_SECONDS) as http:
            seen = [http.get("/legacy/pid").json() for _ in range(20)]
        arbiters = {answer["parent"] for answer in seen}
        workers = {answer["pid"] for answer in seen}
        (arbiter,) = arbiters  # one arbiter for both gateway workers
        assert arbiter in children(proc.pid)
        assert workers <= set(children(arbiter))
        proc.terminate()
        proc.wait(timeout=DEADLINE_SECONDS)
        wait_until(
            lambda: gone([arbiter, *workers]),
            timeout=DEADLINE_SECONDS,
            message="the legacy processes to stop with the gateway",
        )


def test_every_process_stops_when_the_gateway_is_killed(tmp_path: Path) -> None:
    flags = ("--workers", "2", "--legacy-processes", "1")
    with gateway_serve(tmp_path, *flags) as (proc, base):
        answer = httpx.get(f"{base}/legacy/pid", timeout=DEADLINE_SECONDS).json()
        # Two uvicorn workers and the legacy arbiter, then the arbiter's worker.
        everyone = {*children_once(proc.pid, 3), answer["pid"]}
        assert answer["parent"] in everyone
        proc.kill()  # no shutdown of its own: each must notice by itself
        proc.wait(timeout=DEADLINE_SECONDS)
        wait_until(
            lambda: gone(everyone),
            timeout=DEADLINE_SECONDS,
            message="every process to stop once the gateway was killed",
        )


def test_a_killed_arbiter_is_started_again(tmp_path: Path) -> None:
    with (
        gateway_serve(tmp_path, "--legacy-processes", "1") as (proc, base),
        httpx.Client(base_url=f"{base}/legacy", timeout=DEADLINE_SECONDS) as http,
    ):
        first = http.get("/pid").json()
        os.kill(first["parent"], signal.SIGKILL)

        def served_anew() -> dict[str, int] | None:
            answer = http.get("/pid")  # a 503 while no arbiter listens
            if answer.status_code != 200:
                return None
            # The dead arbiter's orphaned worker may still answer once before it leaves.
            seen: dict[str, int] = answer.json()
            arbiter = seen["parent"]
            return seen if arbiter != first["parent"] and arbiter in children(proc.pid) else None

        again = wait_until(served_anew, timeout=DEADLINE_SECONDS, message="a new arbiter")

    assert again["parent"] != first["parent"]


def _arrived() -> list[str]:
    paths = []
    while not ARRIVED.empty():
        paths.append(ARRIVED.get())
    return paths


async def _call(bridge: ProcessBridge, path: str, *, leaves: asyncio.Event) -> list[Message]:
    """One request through ``bridge``, whose client leaves once ``leaves`` is set."""
    messages: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await leaves.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await bridge(scope, receive, send)
    return sent


def test_a_request_whose_client_leaves_while_no_process_is_free_is_never_run() -> None:
    """A request may wait for a worker to accept its connection (another gateway worker's
    requests hold them all); its client leaving ends the wait, and it never runs."""
    _arrived()
    HELD.clear()
    processes = LegacyProcesses(_app, count=1, timeout=DEADLINE_SECONDS)
    bridge = ProcessBridge(processes, wait_seconds=DEADLINE_SECONDS)

    async def scenario() -> tuple[list[Message], BaseException | None]:
        stays, leaves = asyncio.Event(), asyncio.Event()
        held = asyncio.create_task(_call(bridge, "/held", leaves=stays))
        assert await asyncio.to_thread(ENTERED.acquire, True, DEADLINE_SECONDS)
        # Its client leaves at once: whenever that is seen, the only worker is still held.
        waiting = asyncio.create_task(_call(bridge, "/gone", leaves=leaves))
        leaves.set()
        outcome = (await asyncio.gather(waiting, return_exceptions=True))[0]
        HELD.set()
        answered = await asyncio.wait_for(held, DEADLINE_SECONDS)
        return answered, outcome if isinstance(outcome, BaseException) else None

    processes.start()
    try:
        answered, outcome = asyncio.run(scenario())
        after = asyncio.run(_call(bridge, "/after", leaves=asyncio.Event()))
    finally:
        HELD.set()
        processes.stop()

    assert isinstance(outcome, ClientGone)
    assert answered[0]["status"] == after[0]["status"] == 200
    assert _arrived() == ["/held", "/after"]  # the request whose client left never ran
