"""``gateway set``, ``promote``, ``rollback``, ``status`` and ``history`` on real records.

The commands load the team's apps from the manifest and write the records database; what
they refuse is refused before anything is written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway import cli
from tests.postgres import URL_VARIABLE
from tests.served import PID_APP

# Once is enough: on PostgreSQL the same commands drive test_live.py.
pytestmark = pytest.mark.skipif(bool(os.environ.get(URL_VARIABLE)), reason="run in the SQLite pass")
MODULE = '[[module]]\nname = "pid"\npaths = ["/pid"]\n'


@pytest.fixture
def manifest(tmp_path: Path, records_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pidapp.py").write_text(PID_APP, encoding="utf-8")
    path = tmp_path / "migration.toml"
    gateway = f'[gateway]\nlegacy = "pidapp:app"\nv2 = "pidapp:v2"\ndatabase = "{records_url}"\n'
    path.write_text(gateway + MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "pidapp", raising=False)  # each test's own file
    return path


def _run(manifest: Path, *args: str) -> Result:
    return CliRunner().invoke(cli.main, [*args, "--manifest", str(manifest)])


def test_each_change_is_one_row_with_who_when_why_and_both_values(manifest: Path) -> None:
    steps = [
        ("set", "pid", "shadow", "--sample", "0.5", "--reason", "compare first", "--by", "ana"),
        # No evidence here: the gates hold it back, so it is forced (and recorded so).
        ("promote", "pid", "--percent", "10", "--reason", "matches", "--by", "ben", "--force"),
        ("rollback", "pid", "--reason", "latency", "--by", "ana"),
    ]
    for step in steps:
        result = _run(manifest, *step)
        assert result.exit_code == 0, result.output

    lines = _run(manifest, "history", "pid").output.splitlines()

    assert len(lines) == 3  # newest first
    assert "3  " in lines[0]
    assert "pid: canary 10% -> shadow 0.5  [manual] by ana: latency" in lines[0]
    assert "pid: shadow 0.5 -> canary 10%  [forced] by ben: matches" in lines[1]
    assert "pid: legacy -> shadow 0.5  [manual] by ana: compare first" in lines[2]


def test_status_shows_what_serves_and_where_it_differs_from_the_manifest(
    manifest: Path,
) -> None:
    assert _run(manifest, "status").output.splitlines()[:2] == [
        "runtime version 0",
        "  pid: legacy",
    ]
    _run(manifest, "set", "pid", "v2", "--reason", "done")

    output = _run(manifest, "status").output

    assert "runtime version 1" in output
    assert "  pid: v2 (manifest: legacy; since version 1)" in output


def test_an_edited_manifest_that_disagrees_with_the_runtime_state_is_reported(
    manifest: Path,
) -> None:
    _run(manifest, "set", "pid", "legacy", "--reason", "rolled back by hand")
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('paths = ["/pid"]', 'paths = ["/pid"]\nstate = "v2"'))

    output = _run(manifest, "status").output

    assert "  pid: legacy (manifest: v2; since version 1)" in output
    assert "conflict:" in output
    assert "now declares v2, but runtime version 1 keeps legacy" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "pid", "canary"), "state canary needs a canary percent"),
        (("set", "pid", "shadow"), "state shadow needs a sample rate above 0"),
        (("set", "nope", "v2"), "no module 'nope'"),
        (("rollback", "pid"), "already in legacy, the first state"),
    ],
)
def test_an_unservable_change_is_refused_and_nothing_is_written(
    manifest: Path, args: tuple[str, ...], message: str
) -> None:
    result = _run(manifest, *args, "--reason", "try")

    assert result.exit_code == 2
    assert message in result.output
    assert "no runtime changes" in _run(manifest, "history").output


def test_a_route_v2_lacks_refuses_the_state_that_would_send_it_there(manifest: Path) -> None:
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('["/pid"]', '["/pid", "/other"]'), encoding="utf-8")
    (manifest.parent / "pidapp.py").write_text(
        PID_APP + '\n\n@app.get("/other")\ndef other():\n    return {}\n', encoding="utf-8"
    )

    result = _run(manifest, "set", "pid", "v2", "--reason", "too soon")

    assert result.exit_code == 2
    assert "v2 does not serve GET /v2/other" in result.output
