"""Run an ASGI app on a real uvicorn server in a background thread, on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from tests.waiting import wait_until


def free_port() -> int:
    """A loopback port nothing listens on (until someone binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def first_answer(
    url: str,
    proc: subprocess.Popen[bytes],
    *,
    output: Callable[[], str],
    timeout: float = 20,
) -> httpx.Response:
    """GET ``url`` until the server in ``proc`` answers; fail with its output if it dies."""

    def answer() -> httpx.Response | None:
        try:
            return httpx.get(url)
        except httpx.ConnectError:
            assert proc.poll() is None, output()  # it died: waiting longer is pointless
            return None

    return wait_until(answer, timeout=timeout, interval=0.1, message=f"an answer from {url}")


@contextmanager
def running_server(app: Any, **config: Any) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        return server.started

    wait_until(started, timeout=10, interval=0.01, message="uvicorn to start")
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
