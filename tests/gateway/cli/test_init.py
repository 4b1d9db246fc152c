"""``gateway init``: a starter manifest from a legacy app's url map, which check accepts."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

OVERLAPPING = """\
from flask import Blueprint, Flask

pages = Blueprint("pages", __name__)
about = Blueprint("about", __name__)


@pages.get("/<page>")
def page(page):
    return page


@about.get("/about")
def about_page():
    return "about"


@about.get("/files/<path:name>")
def files(name):
    return name


def create_app():
    app = Flask(__name__)
    app.register_blueprint(pages)
    app.register_blueprint(about)

    @app.get("/")
    def home():
        return "home"

    return app
"""


@pytest.fixture
def overlapping_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "overlapping_site.py").write_text(OVERLAPPING)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("overlapping_site", None)


def test_init_writes_a_module_per_blueprint_that_check_accepts(tmp_path: Path) -> None:
    output = tmp_path / "conduit.toml"
    runner = CliRunner()

    written = runner.invoke(
        main, ["init", "--legacy", "legacy_flask:create_app", "-o", str(output)]
    )
    checked = runner.invoke(main, ["manifest", "check", str(output)])

    assert written.exit_code == 0, written.output
    assert "5 modules, all in state legacy" in written.output
    data = tomllib.loads(output.read_text())
    assert data["gateway"] == {"legacy": "legacy_flask:create_app"}
    modules = {m["name"]: m for m in data["module"]}
    assert set(modules) == {"users", "profiles", "articles", "comments", "tags"}
    assert modules["comments"]["paths"] == [
        "/api/articles/*/comments",
        "/api/articles/*/comments/*",
    ]
    assert {m["state"] for m in modules.values()} == {"legacy"}
    assert checked.exit_code == 0, checked.output
    assert "5 modules ok" in checked.output


def test_init_never_overwrites(tmp_path: Path) -> None:
    output = tmp_path / "migration.toml"
    output.write_text("# the team's own\n")

    result = CliRunner().invoke(
        main, ["init", "--legacy", "legacy_flask:create_app", "-o", str(output)]
    )

    assert result.exit_code == 1
    assert "exists; not overwritten" in result.output
    assert output.read_text() == "# the team's own\n"


def test_overlapping_blueprints_become_one_module(overlapping_app: Path) -> None:
    runner = CliRunner()

    written = runner.invoke(main, ["init", "--legacy", "overlapping_site:create_app"])
    checked = runner.invoke(main, ["manifest", "check", "migration.toml"])

    assert written.exit_code == 0, written.output
    data = tomllib.loads((overlapping_app / "migration.toml").read_text())
    (merged, home) = sorted(data["module"], key=lambda m: m["name"], reverse=True)
    assert merged["name"] == "pages-about"
    assert merged["paths"] == ["/*", "/about", "/files/**"]
    assert (home["name"], home["paths"]) == ("app", ["/"])
    assert checked.exit_code == 0, checked.output


def test_init_explains_a_bad_legacy_string(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["init", "--legacy", "legacy_flask:nope", "-o", str(tmp_path / "m.toml")]
    )

    assert result.exit_code == 1
    assert "--legacy 'legacy_flask:nope': 'legacy_flask' has no attribute 'nope'" in result.output
    assert not (tmp_path / "m.toml").exists()
