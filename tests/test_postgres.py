"""The throw-away PostgreSQL server of the test command leaves nothing behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests import postgres

pytestmark = pytest.mark.database  # the PostgreSQL pass runs it again

# ``python -m tests.postgres`` finds the tests package from the repository root.
REPO = Path(__file__).resolve().parents[1]


def _binaries_present() -> bool:
    try:
        postgres.bin_dir()
    except postgres.PostgresError:
        return False
    return True


needs_binaries = pytest.mark.skipif(
    not _binaries_present(), reason="PostgreSQL server binaries not installed"
)


def _accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


@needs_binaries
def test_the_server_serves_an_empty_database_and_is_gone_afterwards() -> None:
    with postgres.running_server() as server:
        with psycopg.connect(server.url) as conn:
            row = conn.execute(
                "SELECT current_database(), current_setting('fsync'),"
                " (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')"
            ).fetchone()
        assert row == (postgres.DATABASE, "off", 0)
        assert (server.root / "data").is_dir()

    assert not server.root.exists()
    assert not _accepts_connections(server.port)


@needs_binaries
def test_an_exception_inside_still_stops_the_server_and_removes_its_files() -> None:
    with pytest.raises(ZeroDivisionError), postgres.running_server() as server:
        _ = 1 / 0

    assert not server.root.exists()
    assert not _accepts_connections(server.port)


@needs_binaries
def test_the_command_gets_the_url_and_its_exit_status_is_passed_on() -> None:
    script = (
        "import os, sys, psycopg\n"
        "with psycopg.connect(os.environ['GATEWAY_TEST_DATABASE_URL']) as conn:\n"
        "    print(conn.execute('SHOW data_directory').fetchone()[0])\n"
        "sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.postgres", sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 3, done.stderr
    data_directory = Path(done.stdout.strip())
    assert data_directory.name == "data"
    assert not data_directory.parent.exists()


def test_missing_binaries_give_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.postgres", "true"],
        env={**os.environ, "PG_BIN": str(tmp_path)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == postgres.SETUP_FAILED
    assert f"binaries not found in {tmp_path}" in done.stderr
    assert "PG_BIN" in done.stderr
