"""``gateway serve`` as a team runs it: a subprocess, from the folder of apps of its own.

The Flask app answers ``/pid`` with the process that served it, that process's parent, and
the process that imported the app's module: enough to tell which process did what. Its v2
(``pidapp:v2``, FastAPI) answers ``/pid`` too, with its side named; ``/boom`` is planted to
fail on v2 only.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.serving import first_answer, free_port
from tests.waiting import wait_until

DEADLINE_SECONDS = 30.0

PID_APP = """
import os

from flask import Flask

IMPORTED_IN = os.getpid()
app = Flask(__name__)


@app.get("/pid")
def pid():
    return {"pid": os.getpid(), "parent": os.getppid(), "imported_in": IMPORTED_IN}


from fastapi import FastAPI

v2 = FastAPI()


@v2.get("/pid")
def v2_pid():
    return {"pid": os.getpid(), "side": "v2"}


@app.get("/boom")
def boom():
    return {"ok": True}


@v2.get("/boom")
def v2_boom():
    raise RuntimeError("planted: v2 fails here")
"""


@contextmanager
def gateway_serve(
    folder: Path, *flags: str, records: str | None = None, modules: str = ""
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The process and its base URL once ``/health`` answers; stopped (SIGTERM) afterwards.

    ``records`` is the gateway's database (a SQLite file in ``folder`` unless given);
    ``modules`` is appended to the manifest as written.
    """
    (folder / "pidapp.py").write_text(PID_APP, encoding="utf-8")
    records = records or f"sqlite:///{folder / 'records.db'}"
    manifest = f'[gateway]\nlegacy = "pidapp:app"\nv2 = "pidapp:v2"\ndatabase = "{records}"\n'
    (folder / "migration.toml").write_text(manifest + modules, encoding="utf-8")
    port = free_port()
    log = folder / "serve.log"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), *flags]
    with log.open("wb") as output:
        proc = subprocess.Popen(command, cwd=folder, stdout=output, stderr=output)
    try:
        base = f"http://127.0.0.1:{port}"
        first_answer(f"{base}/health", proc, output=log.read_text, timeout=DEADLINE_SECONDS)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=DEADLINE_SECONDS)


def children(pid: int) -> list[int]:
    """Every thread's children: a restarted arbiter is the child of the thread that watched."""
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def children_once(pid: int, count: int) -> set[int]:
    """``pid``'s children once there are ``count``: ``/health`` answers as soon as the first
    worker does, before the others have started."""

    def settled() -> set[int] | None:
        now = set(children(pid))
        return now if len(now) == count else None

    return wait_until(settled, timeout=DEADLINE_SECONDS, message=f"{count} children of {pid}")


def gone(pids: Iterable[int]) -> bool:
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)
