"""What a team installs: the ``gateway`` package and the ``gateway`` command, nothing else.

The wheel is built from a copy of the repository (the examples included, as in a clone), then
installed into a folder of its own and run from elsewhere, so nothing is found by luck.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a clone holds beside the gateway: the examples must stay out of the wheel.
TREE = ("pyproject.toml", "README.md", "gateway", "legacy_flask", "v2", "shared", "migrations")
_NOT_SOURCE = shutil.ignore_patterns("__pycache__", ".ruff_cache", ".mypy_cache")


def _run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in TREE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=_NOT_SOURCE)
        else:
            shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "examples", source / "examples", ignore=_NOT_SOURCE)
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", dist, source)  # fmt: skip
    (built,) = dist.glob("*.whl")
    return built


def test_the_wheel_holds_the_gateway_package_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        commands = archive.read(entry_points).decode()

    top = {
        name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")
    }
    assert top == {"gateway"}
    assert "gateway/records/migrations/env.py" in names
    assert any(n.startswith("gateway/records/migrations/versions/") for n in names)
    scripts = [line.split("=")[0].strip() for line in commands.splitlines() if "=" in line]
    assert scripts == ["gateway"]


def test_an_installed_gateway_finds_its_migrations_and_a_manifest_by_path(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, wheel)
    manifest = tmp_path / "elsewhere" / "team.toml"
    manifest.parent.mkdir()
    manifest.write_text('[gateway]\nlegacy = "teamapp:app"\n')
    script = (
        "import pathlib, gateway\n"
        "from gateway.records import migrate\n"
        "from gateway.config.configuration import load_config\n"
        "print(gateway.__file__)\n"
        f"migrate.upgrade('sqlite:///{tmp_path}/installed.db')\n"
        f"print(migrate.current_revision('sqlite:///{tmp_path}/installed.db'))\n"
        f"print(load_config(pathlib.Path({str(manifest)!r})).options.legacy)\n"
    )

    out = _run(
        sys.executable, "-c", script, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)}
    )

    location, revision, legacy = out.split()
    assert location.startswith(str(target))  # the installed copy, not the checkout
    assert revision != "None"
    assert legacy == "teamapp:app"
