"""``gateway serve --workers N``: one gateway built, then forked into N uvicorn workers.

Through real ``gateway serve`` processes: each worker is a child of the serving process and
serves the app that process imported (nothing is imported again); gunicorn replaces a worker
that dies; the workers keep the edge's configured limits.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.postgres import URL_VARIABLE
from tests.served import DEADLINE_SECONDS, children, children_once, gateway_serve
from tests.waiting import wait_until

# Nothing here touches a database: the SQLite pass runs it, and the PostgreSQL pass need not.
pytestmark = pytest.mark.skipif(bool(os.environ.get(URL_VARIABLE)), reason="run in the SQLite pass")


def test_the_workers_are_forked_from_the_gateway_the_serving_process_built(
    tmp_path: Path,
) -> None:
    with gateway_serve(tmp_path, "--workers", "2") as (proc, base):
        workers = children_once(proc.pid, 2)
        with httpx.Client(base_url=base, timeout=DEADLINE_SECONDS) as http:
            answer = http.get("/legacy/pid").json()

    assert answer["pid"] in workers
    # The app's module was imported once, by the serving process, before it forked.
    assert answer["parent"] == answer["imported_in"] == proc.pid


def test_a_killed_worker_is_replaced(tmp_path: Path) -> None:
    with (
        gateway_serve(tmp_path, "--workers", "2") as (proc, base),
        httpx.Client(base_url=base, timeout=DEADLINE_SECONDS) as http,
    ):
        first = children_once(proc.pid, 2)
        victim = http.get("/legacy/pid").json()["pid"]
        os.kill(victim, signal.SIGKILL)

        def replaced() -> set[int] | None:
            now = set(children(proc.pid))
            return now if len(now) == 2 and victim not in now else None

        now = wait_until(replaced, timeout=DEADLINE_SECONDS, message="a new worker")
        answers = [http.get("/legacy/pid") for _ in range(5)]

    assert len(now - first) == 1
    assert all(answer.status_code == 200 for answer in answers)


def test_forked_workers_keep_the_edge_limits(tmp_path: Path) -> None:
    flags = ("--workers", "2", "--server-max-headers", "10")
    with gateway_serve(tmp_path, *flags) as (_, base):
        address = urlsplit(base)
        headers = "".join(f"X-Filler-{n}: {n}\r\n" for n in range(20))
        request = f"GET /legacy/pid HTTP/1.1\r\nHost: test\r\n{headers}\r\n".encode()
        with socket.create_connection((address.hostname, address.port), DEADLINE_SECONDS) as sock:
            sock.sendall(request)
            status_line = sock.makefile("rb").readline()

    assert status_line.startswith(b"HTTP/1.1 431 ")
