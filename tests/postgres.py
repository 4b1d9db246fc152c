"""Run a command against a throw-away PostgreSQL server.

    python -m tests.postgres <command> [args...]

starts a fresh server in a temporary directory, creates one database, runs the command with
``GATEWAY_TEST_DATABASE_URL`` naming it, then stops the server and deletes the directory,
whatever happens (failure, exception, Ctrl-C, SIGTERM). The exit status is the command's;
125 means the server could not be set up, as for ``env`` and ``timeout``.

The server binaries come from ``PG_BIN`` (default: Debian's PostgreSQL 15 directory).
PostgreSQL refuses to run as root, so under root (CI) the server runs as ``nobody``, which
owns the temporary directory. The server listens on 127.0.0.1 only, on a free port, and on a
socket inside the temporary directory; loopback clients are trusted and durability is off:
the data lives as long as the command.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from tests.serving import free_port

DEFAULT_BIN = "/usr/lib/postgresql/15/bin"
UNPRIVILEGED_USER = "nobody"
ROLE = "postgres"
DATABASE = "conduit_test"
URL_VARIABLE = "GATEWAY_TEST_DATABASE_URL"
SETUP_FAILED = 125

_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    # Throw-away data: nothing needs to survive a crash, so skip the disk flushes.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
_START_ATTEMPTS = 3
# How long a command may take to finish on its own after Ctrl-C before it is terminated.
_GRACE_SECONDS = 10


class PostgresError(RuntimeError):
    """The throw-away server could not be set up."""


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    root: Path


@dataclass(frozen=True)
class _Account:
    """Who the server runs as: ``None`` ids mean the current user."""

    uid: int | None = None
    gid: int | None = None


def bin_dir() -> Path:
    path = Path(os.environ.get("PG_BIN") or DEFAULT_BIN)
    missing = [
        name for name in ("initdb", "pg_ctl", "postgres", "createdb") if not (path / name).is_file()
    ]
    if missing:
        raise PostgresError(
            f"PostgreSQL server binaries not found in {path} (missing: {', '.join(missing)}); "
            "install PostgreSQL 15 (Debian: apt-get install postgresql-15) "
            "or set PG_BIN to the directory holding initdb and pg_ctl"
        )
    return path


def _account() -> _Account:
    if os.geteuid() != 0:
        return _Account()
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise PostgresError(
            f"running as root, and PostgreSQL refuses root: no {UNPRIVILEGED_USER!r} user "
            "to run it as"
        ) from None
    return _Account(uid=entry.pw_uid, gid=entry.pw_gid)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Tools:
    """Runs the PostgreSQL programs as the server's account, in a clean environment."""

    def __init__(self, bin_path: Path, root: Path, account: _Account) -> None:
        self.bin_path = bin_path
        self.root = root
        self.account = account
        # PG* variables of the caller (PGPORT, PGDATA, PGHOST...) would redirect the tools.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self.env.update(HOME=str(root), LC_ALL="C")
        self.log = root / "server.log"

    def run(self, program: str, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin_path / program), *args]
        try:
            done = subprocess.run(
                command,
                cwd=self.root,
                env=self.env,
                user=self.account.uid,
                group=self.account.gid,
                extra_groups=[] if self.account.uid is not None else None,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                # The server must not see the terminal's Ctrl-C: it is stopped by pg_ctl.
                start_new_session=True,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresError(f"{program} failed: {exc}") from exc
        if done.returncode != 0:
            raise PostgresError(
                f"{program} exited with {done.returncode}:\n{done.stdout}{done.stderr}"
                + self._log_tail()
            )

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\nserver.log:\n" + "\n".join(lines[-20:])


@contextmanager
def running_server() -> Iterator[Server]:
    """A fresh PostgreSQL server with an empty database, gone again on exit."""
    bin_path = bin_dir()
    account = _account()
    root = Path(tempfile.mkdtemp(prefix="gateway-postgres-"))
    started = False
    tools = _Tools(bin_path, root, account)
    data = root / "data"
    try:
        if account.uid is not None:
            os.chown(root, account.uid, account.gid if account.gid is not None else -1)
        _initdb(tools, data)
        started = True
        port = _start(tools, data)
        tools.run("createdb", "--host=127.0.0.1", f"--port={port}", f"--username={ROLE}", DATABASE)
        yield Server(url=f"postgresql://{ROLE}@127.0.0.1:{port}/{DATABASE}", port=port, root=root)
    finally:
        # A second Ctrl-C must not leave a server or its files behind.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if started:
                _stop(tools, data)
        finally:
            shutil.rmtree(root, ignore_errors=True)
            signal.signal(signal.SIGINT, previous)


def _initdb(tools: _Tools, data: Path) -> None:
    args = [f"--pgdata={data}", f"--username={ROLE}", "--auth=trust"]
    try:
        tools.run("initdb", *args, "--encoding=UTF8", "--no-locale", "--no-sync")
    except PostgresError as exc:
        if tools.account.uid is None:
            raise
        raise PostgresError(
            f"{exc}\nThe server runs as {UNPRIVILEGED_USER!r}, which must be able to reach "
            f"{tools.root}: point TMPDIR at a directory every user can enter, such as /tmp."
        ) from exc


def _start(tools: _Tools, data: Path) -> int:
    """Start the server on a free port; another process may take the port first, so retry."""
    conf = data / "postgresql.conf"
    base_conf = conf.read_text()
    attempts = 0
    while True:
        attempts += 1
        port = free_port()
        settings = {
            **_SERVER_SETTINGS,
            "port": str(port),
            "unix_socket_directories": str(tools.root),
        }
        conf.write_text(
            base_conf
            + "\n# tests.postgres\n"
            + "".join(f"{key} = {_quote(value)}\n" for key, value in settings.items())
        )
        try:
            tools.run("pg_ctl", "start", f"--pgdata={data}", f"--log={tools.log}", "--wait")
        except PostgresError:
            if attempts >= _START_ATTEMPTS:
                raise
        else:
            return port


def _stop(tools: _Tools, data: Path) -> None:
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return  # never started
    try:
        tools.run("pg_ctl", "stop", f"--pgdata={data}", "--mode=fast", "--wait", timeout=60)
    except PostgresError:
        tools.run("pg_ctl", "stop", f"--pgdata={data}", "--mode=immediate", "--wait", timeout=60)
    # pg_ctl returns once the pid file is gone, a moment before the postmaster has exited.
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    # An exited child of a parent that does not reap (PID 1 in some containers) stays a zombie.
    return stat.rpartition(")")[2].split()[0] != "Z"


def _exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _run_command(command: Sequence[str], url: str) -> int:
    process = subprocess.Popen(command, env={**os.environ, URL_VARIABLE: url})
    try:
        return _exit_status(process.wait())
    except KeyboardInterrupt:
        # The terminal sent Ctrl-C to the command too: let it wind down on its own first.
        _end(process, grace=_GRACE_SECONDS)
        raise
    except BaseException:
        _end(process, grace=0)
        raise


def _end(process: subprocess.Popen[bytes], *, grace: float) -> None:
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _terminated(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    command = list(sys.argv[1:] if argv is None else argv)
    if not command:
        print("usage: python -m tests.postgres <command> [args...]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with running_server() as server:
            print(f"tests.postgres: server on 127.0.0.1:{server.port}", file=sys.stderr)
            return _run_command(command, server.url)
    except PostgresError as exc:
        print(f"tests.postgres: {exc}", file=sys.stderr)
        return SETUP_FAILED
    except KeyboardInterrupt:
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
