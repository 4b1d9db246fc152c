"""The app runs alone: ``flask --app notes_app init-db --demo`` and ``flask --app notes_app run``
from examples/notes, configured by ``NOTES_*`` environment variables only."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
from werkzeug.security import check_password_hash

from tests.examples.helpers import NOTES_DIR, bearer
from tests.serving import first_answer, free_port


def _env(db_file: Path) -> dict[str, str]:
    return {**os.environ, "NOTES_SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}"}


def _flask(db_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "flask", "--app", "notes_app", *args],
        cwd=NOTES_DIR,
        env=_env(db_file),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _rows(db_file: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_file)) as conn:
        return conn.execute(sql).fetchall()


def test_init_db_demo_creates_the_demo_user_and_notes(tmp_path: Path) -> None:
    db_file = tmp_path / "notes.db"

    done = _flask(db_file, "init-db", "--demo")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Initialised the database.\nAdded the demo user 'ada' with 2 notes.\n"
    users = _rows(db_file, "SELECT id, username, password_hash FROM notes_users")
    assert [username for _, username, _ in users] == ["ada"]
    user_id, _, password_hash = users[0]
    assert isinstance(password_hash, str)
    assert check_password_hash(password_hash, "ada-password")
    notes = _rows(db_file, "SELECT owner_id, title FROM notes_notes ORDER BY id")
    assert notes == [(user_id, "The Analytical Engine"), (user_id, "Note G")]
    tables = _rows(db_file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    assert tables == [("notes_notes",), ("notes_revoked_tokens",), ("notes_users",)]


def test_init_db_again_leaves_the_data_alone(tmp_path: Path) -> None:
    db_file = tmp_path / "notes.db"
    assert _flask(db_file, "init-db", "--demo").returncode == 0

    again = _flask(db_file, "init-db", "--demo")

    assert again.returncode == 0, again.stderr
    assert again.stdout == "Initialised the database.\nThe demo user 'ada' already exists.\n"
    assert _rows(db_file, "SELECT count(*) FROM notes_users") == [(1,)]
    assert _rows(db_file, "SELECT count(*) FROM notes_notes") == [(2,)]


def test_init_db_without_demo_adds_no_user(tmp_path: Path) -> None:
    db_file = tmp_path / "notes.db"

    done = _flask(db_file, "init-db")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Initialised the database.\n"
    assert _rows(db_file, "SELECT count(*) FROM notes_users") == [(0,)]


def test_flask_run_serves_the_app_alone(tmp_path: Path) -> None:
    db_file = tmp_path / "notes.db"
    assert _flask(db_file, "init-db", "--demo").returncode == 0
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "notes_app", "run", "--port", str(port)],
        cwd=NOTES_DIR,
        env=_env(db_file),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            stderr = proc.stderr
            login = first_answer(
                f"{base}/login", proc, output=lambda: stderr.read().decode() if stderr else ""
            )
            token = httpx.post(
                f"{base}/api/token", json={"username": "ada", "password": "ada-password"}
            ).json()["access_token"]
            notes = httpx.get(f"{base}/api/notes", headers=bearer(token))
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    assert login.status_code == 200
    assert "<h2>Sign in</h2>" in login.text
    assert notes.status_code == 200
    assert [n["title"] for n in notes.json()["notes"]] == ["Note G", "The Analytical Engine"]
