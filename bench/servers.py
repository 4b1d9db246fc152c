"""Real servers on loopback for the benchmark: free ports, start and stop with deadlines.

By default every server is one process (``gateway serve`` runs uvicorn in-process with one
worker, and gunicorn is given one worker), so its pid is the one whose memory and CPU time are
read. Given more workers (``gateway serve --workers N`` forks uvicorn workers under gunicorn's
supervisor), a server is a tree of processes: its memory is summed over the tree
(``tree_pss_mib``, ``tree_rss_mib``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
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


@dataclass(frozen=True)
class Deployment:
    """A setup a client reaches at one address, served by one or more process trees."""

    base: str
    pids: tuple[int, ...]  # the roots (a master, or a lone process)


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


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL past the deadline. A master killed so leaves its workers
    behind: those found under it beforehand are killed too."""
    below = tree_pids(proc.pid)[1:] if proc.poll() is None else []
    proc.terminate()
    try:
        proc.wait(timeout=STOP_SECONDS)
        return
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_SECONDS)
    for pid in below:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def serve(
    command: Sequence[str], env: Mapping[str, str], port: int, probe: str
) -> Iterator[Server]:
    """Run ``command``, wait until ``probe`` (a path) answers on ``port``, stop it at exit."""
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + probe, proc)
        yield Server(base, proc.pid)
    finally:
        _stop(proc)


def gateway(
    env: Mapping[str, str], manifest: Path = MANIFEST, *, at_root: bool = False, workers: int = 1
) -> AbstractContextManager[Server]:
    """``gateway serve --workers N`` (one uvicorn worker unless told) with ``manifest``; use
    in a ``with``. With ``at_root``, the legacy app is served at its own URLs
    (``legacy_prefix = "/"``)."""
    port = free_port()
    command = [str(BIN / "gateway"), "serve", "--port", str(port), "--workers", str(workers)]
    served = {**env, "GATEWAY_MANIFEST": str(manifest)}
    if at_root:
        served["GATEWAY_LEGACY_PREFIX"] = "/"
    return serve(command, served, port, "/_gateway/health" if at_root else "/health")


def gunicorn(
    env: Mapping[str, str],
    worker_class: str,
    threads: int = 1,
    workers: int = 1,
    *,
    script_name: str = "",
) -> AbstractContextManager[Server]:
    """The legacy app alone on gunicorn (one worker unless told); use in a ``with``. With a
    ``script_name`` (``/legacy``), gunicorn takes it off every path into ``SCRIPT_NAME``,
    as the gateway does for the legacy prefix, and answers only under it."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "legacy_flask:create_app()", "--workers", str(workers)]
    command += ["--worker-class", worker_class, "--threads", str(threads)]
    command += ["--bind", f"127.0.0.1:{port}"]
    served = {**env, "SCRIPT_NAME": script_name} if script_name else env
    return serve(command, served, port, f"{script_name}/api/tags")


def rss_mib(pid: int) -> float:
    """The resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def pss_mib(pid: int) -> float:
    """A process's proportional set size: its private pages, and each page it shares divided
    by the number of processes mapping it, so a tree's sum counts forked pages once."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss for process {pid}")


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants, the process first. Children are listed per thread
    (``task/<tid>/children``), so each of its threads is asked; one that exits meanwhile
    is left out."""
    pids = [pid]
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in children:
            pids += tree_pids(int(child))
    return pids


def _tree_sum(pid: int, measure: Callable[[int], float]) -> float:
    total = 0.0
    for member in tree_pids(pid):
        with suppress(FileNotFoundError):  # exited since it was listed
            total += measure(member)
    return total


def tree_rss_mib(pid: int) -> float:
    """The resident memory of a process and its children (the shadow's replay process). Pages
    the tree shares (a master's, forked) count once per process: see ``tree_pss_mib``."""
    return _tree_sum(pid, rss_mib)


def tree_pss_mib(pid: int) -> float:
    """The proportional memory of a process and its descendants (a master and its workers)."""
    return _tree_sum(pid, pss_mib)


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
