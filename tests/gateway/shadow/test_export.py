"""``gateway parity export`` turns stored mismatches into a pytest file that fails until v2 is
fixed, and holds no credential or personal data.

A v2 planted with a divergence (it answers the tag list upper-cased) is shadowed through a
real server; the exported file is run by pytest, in a process of its own as a team runs it:
it fails on the planted divergence, and passes once the manifest names the real v2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

import legacy_flask
import v2 as conduit_v2
from gateway.app import create_app
from gateway.cli import main
from gateway.config.configuration import load_config
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from gateway.shadow.export import exported_tests
from shared.db import Database
from shared.settings import Settings
from tests.conduit import Api
from tests.planted import UpperCased, shadowed
from tests.serving import running_server
from tests.waiting import wait_until

MODULE = "exported-tags"
ROOT = Path(__file__).resolve().parents[3]


def divergent_v2() -> Any:
    """Conduit's v2 as its settings (CONDUIT_*) build it, with the planted divergence."""
    return UpperCased(conduit_v2.create_app(), "/api/tags")


def _manifest(folder: Path, records: RecordStore, v2: str, *, forget: bool = True) -> Path:
    return shadowed(
        folder,
        records,
        module=MODULE,
        paths=["/api/tags"],
        legacy="legacy_flask:create_app()",
        v2=v2,
        python_path=[ROOT],
        forget=forget,
    )


@pytest.fixture
def manifest(tmp_path: Path, records: RecordStore) -> Path:
    return _manifest(tmp_path, records, f"{__name__}:divergent_v2()")


def _run_pytest(exported: Path, settings: Settings) -> subprocess.CompletedProcess[str]:
    """The exported file run by pytest as a team runs it: a process of its own, v2 built
    from the manifest and Conduit's settings (its database: the suite's)."""
    env = {**os.environ, "CONDUIT_DATABASE_URL": settings.database.url}
    command = [sys.executable, "-m", "pytest", str(exported), "-q", "-p", "no:cacheprovider"]
    return subprocess.run(
        command, cwd=exported.parent, env=env, capture_output=True, text=True, timeout=300
    )


def _mismatch_recorded(
    manifest: Path, records: RecordStore, settings: Settings, database: Database
) -> None:
    real = conduit_v2.create_app(settings, database=database)
    app = create_app(
        load_config(manifest, environ={}),
        legacy=legacy_flask.create_app(settings, database=database),
        v2=UpperCased(real, "/api/tags"),
        store=records,
    )
    with running_server(app) as url, httpx.Client(base_url=f"{url}/legacy/api", timeout=30) as http:
        api = Api(http=http, prefix="")
        author = api.register("exporter")
        api.create_article(author, tagList=["quiet", "calm"])
        assert http.get("/tags", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 200

        def stored() -> bool:
            with records.session() as session:
                query = select(ShadowComparison).where(ShadowComparison.module == MODULE)
                return any(row.outcome == "mismatched" for row in session.scalars(query))

        wait_until(stored, timeout=30, message="the tag list's mismatch")


def test_the_exported_file_fails_on_the_divergence_and_passes_once_v2_is_fixed(
    manifest: Path,
    records: RecordStore,
    settings: Settings,
    database: Database,
    tmp_path: Path,
) -> None:
    _mismatch_recorded(manifest, records, settings, database)
    exported = tmp_path / "tests" / f"test_parity_{MODULE}.py"

    written = CliRunner().invoke(
        main, ["parity", "export", MODULE, "--manifest", str(manifest), "-o", str(exported)]
    )
    assert written.exit_code == 0, written.output
    text = exported.read_text(encoding="utf-8")
    divergent = _run_pytest(exported, settings)
    _manifest(manifest.parent, records, "v2:create_app()", forget=False)  # v2 fixed
    fixed = _run_pytest(exported, settings)

    assert divergent.returncode == 1, divergent.stdout + divergent.stderr
    assert "1 failed" in divergent.stdout
    assert "QUIET" in divergent.stdout  # the failure shows what v2 answered
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "1 passed" in fixed.stdout
    assert "quiet" in text  # legacy's answer, expected of v2
    assert "198.51.100.7" not in text  # a forwarded address is a person's


def test_exporting_without_a_stored_mismatch_says_so(manifest: Path, tmp_path: Path) -> None:
    output = tmp_path / "test_parity.py"
    command = ["parity", "export", MODULE, "--manifest", str(manifest), "-o", str(output)]

    written = CliRunner().invoke(main, command)

    assert written.exit_code == 1
    assert "no mismatch" in written.output
    assert not output.exists()


def test_personal_data_is_replaced_and_left_out_of_the_comparison() -> None:
    comparison = ShadowComparison(
        module="profiles",
        outcome="mismatched",
        request={
            "method": "GET",
            "path": "/legacy/api/user",
            "query": "contact=ann@example.com",
            "headers": {"accept": "application/json", "x-real-ip": "203.0.113.4"},
            "authenticated": True,
        },
        legacy_status=200,
        legacy_body={
            "user": {"username": "ann", "email": "ann@example.com", "token": "eyJhbGciOi.x.y"},
            "notes": ["write to ann@example.com"],
        },
        signature="user.bio",
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )

    text = exported_tests("/srv/migration.toml", "profiles", [comparison])

    assert "ann@example.com" not in text
    assert "eyJhbGciOi" not in text
    assert "203.0.113.4" not in text
    assert "redacted=['notes[*]', 'user.email', 'user.token']" in text
    assert "authenticated=True" in text
    compile(text, "test_parity_profiles.py", "exec")  # a file pytest can import
