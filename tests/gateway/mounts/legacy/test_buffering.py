"""Requests enter the legacy app complete: a stalled upload holds no thread and no turn, a
client that leaves mid-body or while waiting for a turn is never handed to the app."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.config.options import ServerOptions
from gateway.edge.protocol import uvicorn_settings
from gateway.mounts.legacy.buffering import SPOOL_BYTES
from gateway.mounts.legacy.mount import LegacyMount
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.forked import SHARED
from tests.gateways import LEGACY_PROCESSES, conduit_gateway
from tests.serving import running_server
from tests.waiting import wait_until

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# Far beyond any answer here, and below the body deadline a pinned app would wait for: a
# request held behind a stalled upload fails its read, by construction.
READ_SECONDS = 20.0
BODY_DEADLINE = ServerOptions(body_timeout_seconds=3 * READ_SECONDS)


def _slots(count: int) -> dict[str, int]:
    """Options for ``count`` legacy requests at once, in the mode the suite runs."""
    return {"legacy_processes": count} if LEGACY_PROCESSES else {"legacy_threads": count}


class RecordingApp:
    """A WSGI app that answers each request with the size and hash of the body it read, and
    whose /held requests wait for ``release``."""

    def __init__(self) -> None:
        self._arrived = SHARED.SimpleQueue()
        self._paths: list[str] = []
        self.entered = SHARED.Semaphore(0)
        self.release = SHARED.Event()

    @property
    def paths(self) -> list[str]:
        """The paths of the requests that reached the app, in order."""
        while not self._arrived.empty():
            self._paths.append(self._arrived.get())
        return self._paths

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self._arrived.put(environ["PATH_INFO"])
        data = environ["wsgi.input"].read()
        if environ["PATH_INFO"] == "/held":
            self.entered.release()
            if not self.release.wait(READ_SECONDS):
                raise RuntimeError("the test never released the held request")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode()]


class Counted:
    """The gateway, counting the HTTP requests the server has handed it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.started = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.started += 1
        await self.app(scope, receive, send)


@contextmanager
def serving(
    settings: Settings, database: Database, records: RecordStore, app: RecordingApp, **options: Any
) -> Iterator[tuple[str, Counted]]:
    gateway = Counted(conduit_gateway(settings, database, records, legacy=app, **options))
    try:
        with running_server(gateway, **uvicorn_settings(BODY_DEADLINE)) as url:
            yield url, gateway
    finally:
        app.release.set()


def _stalled_upload(url: str, path: str) -> socket.socket:
    """A POST whose headers and first bytes arrive, and then nothing."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=READ_SECONDS)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n".encode())
    sock.sendall(b"x" * 10)
    return sock


@pytest.mark.parametrize("slots", [1, 10])
def test_stalled_uploads_leave_a_get_answered_at_once(
    settings: Settings, database: Database, records: RecordStore, slots: int
) -> None:
    app = RecordingApp()
    with serving(settings, database, records, app, **_slots(slots)) as (url, gateway):
        stalled = [_stalled_upload(url, "/legacy/upload") for _ in range(12)]
        try:
            wait_until(lambda: gateway.started >= 12, timeout=READ_SECONDS, message="12 uploads")
            answered = httpx.get(f"{url}/legacy/plain", timeout=READ_SECONDS)
        finally:
            for sock in stalled:
                sock.close()

    assert (answered.status_code, answered.headers["x-served-by"]) == (200, "legacy")
    assert app.paths == ["/plain"]  # no stalled upload ever reached the app


def test_a_request_whose_client_left_while_it_waited_is_never_run(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = RecordingApp()
    # A queue deadline longer than any wait here: only the client's leaving ends the wait.
    options = {**_slots(1), "legacy_cpu_share": 0, "legacy_queue_seconds": 3 * READ_SECONDS}
    with serving(settings, database, records, app, **options) as (url, gateway):
        admission = gateway.app.state.legacy.admission
        with httpx.Client(base_url=url, timeout=READ_SECONDS) as http:
            held = threading.Thread(target=http.get, args=("/legacy/held",))
            held.start()
            assert app.entered.acquire(timeout=READ_SECONDS), "the held request never arrived"
            host, port = url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=READ_SECONDS) as sock:
                sock.sendall(b"GET /legacy/gone HTTP/1.1\r\nHost: test\r\n\r\n")
                wait_until(lambda: admission.waiting == 1, timeout=READ_SECONDS, message="a wait")
            wait_until(lambda: admission.waiting == 0, timeout=READ_SECONDS, message="its end")
            app.release.set()
            held.join(READ_SECONDS)
            after = http.get("/legacy/after")

    assert after.status_code == 200
    assert app.paths == ["/held", "/after"]


def _scope() -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }


def _served(messages: list[Message]) -> tuple[RecordingApp, list[Message]]:
    """What the mount sends, given the client's ``messages``; then the connection ends."""
    app = RecordingApp()
    mount = LegacyMount(app, workers=1, max_body_bytes=16 * SPOOL_BYTES)
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        async with mount.running():
            await mount(_scope(), receive, send)

    asyncio.run(run())
    return app, sent


def _parts(data: bytes, size: int) -> list[Message]:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return [
        {"type": "http.request", "body": piece, "more_body": n < len(pieces) - 1}
        for n, piece in enumerate(pieces)
    ]


@pytest.mark.parametrize("size", [10, 3 * SPOOL_BYTES], ids=["in memory", "spooled"])
def test_a_client_leaving_mid_body_is_never_handed_to_the_app(size: int) -> None:
    partial = _parts(b"x" * size, 4096)
    partial[-1]["more_body"] = True  # the body never ends: the client leaves instead

    app, sent = _served(partial)

    assert (app.paths, sent) == ([], [])


@pytest.mark.parametrize("size", [0, 10, SPOOL_BYTES + 1, 3 * SPOOL_BYTES])
def test_a_body_reaches_the_app_whole_from_memory_or_its_spool(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"y" * (size % 256)

    app, sent = _served(_parts(data, 50_000) or [{"type": "http.request", "body": b""}])

    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert app.paths == ["/upload"]
    assert body.decode() == f"{size} {hashlib.sha256(data).hexdigest()}"
