"""``gateway parity export`` on the notes example, whose API is behind a JWT.

Its v2 is planted with a divergence (the note list comes back upper-cased); the list is
shadowed through a real server with a user's token, which the shadow never stores. The
exported file, run by pytest in a process of its own: skipped without a token to send, failing
on the divergence with one, and passing once the manifest names the real v2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.app import create_app
from gateway.cli import main
from gateway.config.configuration import load_config
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from gateway.shadow.exported import AUTHORIZATION_VARIABLE
from tests.examples.helpers import (
    NOTES_DIR,
    MakeUser,
    api_tokens,
    bearer,
    dispose_legacy_engines,
)
from tests.planted import shadowed
from tests.serving import running_server
from tests.waiting import wait_until

MODULE = "exported-notes"
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "exporter-password"


def _manifest(folder: Path, records: RecordStore, v2: str, *, forget: bool = True) -> Path:
    return shadowed(
        folder,
        records,
        module=MODULE,
        paths=["/api/notes", "/api/notes/*"],
        legacy="notes_app:create_app",
        v2=v2,
        python_path=[NOTES_DIR, ROOT],
        forget=forget,
    )


@pytest.fixture
def manifest(tmp_path: Path, notes_environment: None, records: RecordStore) -> Path:
    return _manifest(tmp_path, records, "tests.planted:divergent_notes_v2()")


def _run(exported: Path, authorization: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != AUTHORIZATION_VARIABLE}
    if authorization is not None:
        env[AUTHORIZATION_VARIABLE] = authorization
    command = [sys.executable, "-m", "pytest", str(exported), "-q", "-p", "no:cacheprovider"]
    return subprocess.run(
        command, cwd=exported.parent, env=env, capture_output=True, text=True, timeout=300
    )


def _mismatch(records: RecordStore) -> bool:
    with records.session() as session:
        query = select(ShadowComparison).where(ShadowComparison.module == MODULE)
        return any(row.outcome == "mismatched" for row in session.scalars(query))


def test_an_exported_test_of_a_login_runs_with_the_token_given_it(
    manifest: Path, records: RecordStore, make_user: MakeUser, tmp_path: Path
) -> None:
    make_user("exporter", PASSWORD)
    app = create_app(load_config(manifest, environ={}), store=records)
    with running_server(app) as url, httpx.Client(base_url=f"{url}/legacy", timeout=30) as http:
        token = api_tokens(http, "exporter", PASSWORD)["access_token"]
        note = {"title": "Exported", "body": "lower case"}
        assert http.post("/api/notes", json=note, headers=bearer(token)).status_code == 201
        assert http.get("/api/notes", headers=bearer(token)).status_code == 200
        wait_until(lambda: _mismatch(records), timeout=30, message="the list's mismatch")
    dispose_legacy_engines(app)
    exported = tmp_path / "tests" / f"test_parity_{MODULE}.py"
    command = ["parity", "export", MODULE, "--manifest", str(manifest), "-o", str(exported)]

    written = CliRunner().invoke(main, command)
    text = exported.read_text(encoding="utf-8")
    without = _run(exported, None)
    divergent = _run(exported, f"Bearer {token}")
    _manifest(manifest.parent, records, "notes_v2:create_app()", forget=False)  # v2 fixed
    fixed = _run(exported, f"Bearer {token}")

    assert written.exit_code == 0, written.output
    assert token not in text
    assert "authenticated=True" in text
    assert "1 skipped" in without.stdout, without.stdout + without.stderr
    assert "1 failed" in divergent.stdout, divergent.stdout + divergent.stderr
    assert "LOWER CASE" in divergent.stdout  # what v2 answered
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "1 passed" in fixed.stdout
