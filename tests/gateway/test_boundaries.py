"""The gateway names no application: ruff refuses an import of one anywhere in gateway/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ruff(source: str, filename: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--stdin-filename", filename, "-"],
        input=source,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "module", ["legacy_flask", "v2", "shared.models", "notes_app", "notes_v2", "tests.gateways"]
)
def test_ruff_fails_when_gateway_imports_an_application(module: str) -> None:
    result = _ruff(f"import {module}\n\nprint({module})\n", "gateway/anything.py")

    assert result.returncode == 1
    assert "TID251" in result.stdout
    assert "names no application" in result.stdout


def test_the_same_import_is_fine_outside_gateway() -> None:
    result = _ruff("import legacy_flask\n\nprint(legacy_flask)\n", "tests/anything.py")

    assert result.returncode == 0, result.stdout


def test_shared_stays_framework_free() -> None:
    result = _ruff("import flask\n\nprint(flask)\n", "shared/anything.py")

    assert result.returncode == 1
    assert "shared/ stays framework-free" in result.stdout
