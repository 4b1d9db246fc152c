"""Real servers on loopback for the benchmark: free ports, start and stop with deadlines.

Every server is one process (``gateway serve`` runs uvicorn in-process with one worker, and
gunicorn is given one worker), so its pid is the one whose memory and CPU time are read.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MANIFEST = ROOT / "migration.toml"
START_SECONDS = 60.0  # from exec to the first answer
STOP_SECONDS = 15.0  # from SIGTERM to exit, then SIGKILL
QUIET_SECONDS = 60.0  # for a server to finish its background work after a load


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:<port>
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def environment(database_url: str, var_dir: Path) -> dict[str, str]:
    """The variables every server and command of one run gets: one database, one var dir."""
    return {
        **os.environ,
        "CONDUIT_DATABASE_URL": database_url,
        "CONDUIT_VAR_DIR": str(var_dir),
        "GATEWAY_MANIFEST": str(MANIFEST),
    }


def upgrade_database(env: Mapping[str, str]) -> None:
    """Conduit's schema; the gateway's records are upgraded by each ``gateway serve``."""
    command = [str(BIN / "python"), "-m", "shared.cli", "db", "upgrade"]
    subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=120)


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered {url} within {START_SECONDS:g} s")


@contextmanager
def _serve(
    command: Sequence[str], env: Mapping[str, str], port: int, probe: str
) -> Iterator[Server]:
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + probe, proc)
        yield Server(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_SECONDS)


def gateway(
    env: Mapping[str, str], manifest: Path = MANIFEST, *, at_root: bool = False
) -> AbstractContextManager[Server]:
    """``gateway serve`` (one uvicorn worker) with ``manifest``; use in a ``with``. With
    ``at_root``, the legacy app is served at its own URLs (``legacy_prefix = "/"``)."""
    port = free_port()
    command = [str(BIN / "gateway"), "serve", "--port", str(port)]
    served = {**env, "GATEWAY_MANIFEST": str(manifest)}
    if at_root:
        served["GATEWAY_LEGACY_PREFIX"] = "/"
    return _serve(command, served, port, "/_gateway/health" if at_root else "/health")


def gunicorn(
    env: Mapping[str, str], worker_class: str, threads: int = 1, workers: int = 1
) -> AbstractContextManager[Server]:
    """The legacy app alone on gunicorn (one worker unless told); use in a ``with``."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "legacy_flask:create_app()", "--workers", str(workers)]
    command += ["--worker-class", worker_class, "--threads", str(threads)]
    command += ["--bind", f"127.0.0.1:{port}"]
    return _serve(command, env, port, "/api/tags")


def rss_mib(pid: int) -> float:
    """The resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def tree_rss_mib(pid: int) -> float:
    """The resident memory of a process and its children (the shadow's replay process)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return rss_mib(pid) + sum(tree_rss_mib(int(child)) for child in children)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, from /proc (Linux)."""
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_quiet(pids: Sequence[int], *, window: float = 0.25, busy: float = 0.05) -> None:
    """Wait until the processes used under ``busy`` of a CPU over ``window`` seconds: a
    server still working after its load ended (a shadow replaying its queue) would otherwise
    slow whatever is measured next."""
    deadline = time.monotonic() + QUIET_SECONDS
    before = sum(cpu_seconds(pid) for pid in pids)
    while time.monotonic() < deadline:
        time.sleep(window)
        after = sum(cpu_seconds(pid) for pid in pids)
        if after - before < busy * window:
            return
        before = after
    raise RuntimeError(f"processes {list(pids)} still busy after {QUIET_SECONDS:g} s")
