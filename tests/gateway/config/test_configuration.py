"""Configuration: the three places an option comes from, and each error a team will meet.

Every bad import string stops start-up with one line naming where the option was set, the
option, the string and the reason.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.config.configuration import Config, configure, load_config
from gateway.config.errors import ConfigError
from gateway.config.loading import load_legacy, load_v2
from gateway.config.manifest import Manifest, parse_manifest
from gateway.edge.problems import error_renderer
from gateway.routing.sticky import sticky_key

APPS = '''\
"""Apps of every kind, and broken ones, for the configuration tests."""
from fastapi import APIRouter, FastAPI
from flask import Flask

flask_app = Flask("configured")
fastapi_app = FastAPI()
router = APIRouter()
not_an_app = 42


def create_app(name="configured"):
    return Flask(name)


def make_fastapi():
    return FastAPI()


def broken_factory():
    raise RuntimeError("database password missing")


def wsgi(environ, start_response):
    start_response("200 OK", [])
    return [b""]


def key_of(connection):
    return connection.headers.get("x-team")
'''


@pytest.fixture
def apps_module(tmp_path: Path) -> Iterator[str]:
    """A module of apps, importable from a folder a manifest names (python_path)."""
    package = tmp_path / "teamapps"
    package.mkdir()
    (package / "configured_apps.py").write_text(APPS)
    (package / "raising_import.py").write_text("raise ImportError('no driver for oracle')\n")
    yield str(package)
    for name in ("configured_apps", "raising_import"):
        sys.modules.pop(name, None)


def _config(table: str, directory: str, **flags: str) -> Config:
    text = f'[gateway]\npython_path = ["{directory}"]\n{table}'
    return configure(
        parse_manifest(text, source="team.toml", directory=Path(directory)),
        flags=flags,
        environ={},
    )


def _problem(table: str, directory: str, loader: str = "legacy") -> str:
    config = _config(table, directory)
    with pytest.raises(ConfigError) as caught:
        {"legacy": load_legacy, "v2": load_v2, "errors": error_renderer, "sticky": sticky_key}[
            loader
        ](config)
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("configured_apps:flask_app", "flask_app"),
        ("configured_apps:create_app", "factory"),
        ("configured_apps:create_app('other')", "factory call"),
        ("configured_apps:wsgi", "plain WSGI"),
        ("configured_apps", "module default"),
    ],
)
def test_legacy_takes_an_app_a_factory_or_a_call(apps_module: str, target: str, kind: str) -> None:
    config = _config(f'legacy = "{target}"', apps_module)

    legacy = load_legacy(config)

    assert callable(legacy), kind
    if kind == "factory call":
        assert legacy.name == "other"  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", ["configured_apps:fastapi_app", "configured_apps:make_fastapi"])
def test_v2_takes_an_asgi_app_or_its_factory(apps_module: str, target: str) -> None:
    config = _config(f'v2 = "{target}"', apps_module)

    assert load_v2(config).__class__.__name__ == "FastAPI"


@pytest.mark.parametrize(
    ("table", "loader", "expected"),
    [
        (
            'legacy = "no_such_module:app"',
            "legacy",
            "team.toml:3: legacy = 'no_such_module:app': no module named 'no_such_module'",
        ),
        (
            'legacy = "configured_apps:missing"',
            "legacy",
            "team.toml:3: legacy = 'configured_apps:missing': "
            "'configured_apps' has no attribute 'missing'",
        ),
        (
            'legacy = "configured_apps:broken_factory"',
            "legacy",
            "team.toml:3: legacy = 'configured_apps:broken_factory': "
            "calling the factory raised RuntimeError: database password missing",
        ),
        (
            'legacy = "configured_apps:fastapi_app"',
            "legacy",
            "team.toml:3: legacy = 'configured_apps:fastapi_app': gave an object of type "
            "fastapi.applications.FastAPI, not a WSGI application",
        ),
        (
            'legacy = "configured_apps:not_an_app"',
            "legacy",
            "team.toml:3: legacy = 'configured_apps:not_an_app': gave an object of type "
            "builtins.int, not a WSGI application",
        ),
        (
            'legacy = "raising_import:app"',
            "legacy",
            "team.toml:3: legacy = 'raising_import:app': importing 'raising_import' raised "
            "ImportError: no driver for oracle",
        ),
        (
            'legacy = "configured_apps:create_app(os.environ)"',
            "legacy",
            "team.toml:3: legacy = 'configured_apps:create_app(os.environ)': "
            "factory arguments must be Python literals",
        ),
        (
            'legacy = "configured_apps:"',
            "legacy",
            "team.toml:3: legacy = 'configured_apps:': "
            "expected 'module:attribute' or 'module:factory(...)'",
        ),
        (
            'v2 = "configured_apps:flask_app"',
            "v2",
            "team.toml:3: v2 = 'configured_apps:flask_app': gave an object of type "
            "flask.app.Flask, not an ASGI application or a FastAPI APIRouter",
        ),
        (
            'errors = "configured_apps:not_an_app"',
            "errors",
            "team.toml:3: errors = 'configured_apps:not_an_app': gave an object of type "
            "builtins.int, not a function (status, detail)",
        ),
        (
            'sticky = "session"',
            "sticky",
            "team.toml:3: sticky = 'session': expected address, bearer-sub, header:<name>, "
            "cookie:<name> or 'module:function'",
        ),
    ],
)
def test_each_bad_option_is_one_clear_line(
    apps_module: str, table: str, loader: str, expected: str
) -> None:
    assert _problem(table, apps_module, loader) == expected


def test_an_unset_legacy_app_says_how_to_set_it() -> None:
    config = configure(Manifest(), environ={})

    with pytest.raises(ConfigError) as caught:
        load_legacy(config)

    assert caught.value.problems == [
        "legacy (set it in [gateway], GATEWAY_LEGACY or --legacy): not set"
    ]


def test_flags_beat_variables_beat_the_manifest(apps_module: str) -> None:
    manifest = parse_manifest(
        '[gateway]\nlegacy = "from_manifest:app"\nv2_prefix = "/next"\nlegacy_prefix = "/old"\n',
        source="team.toml",
    )
    environ = {"GATEWAY_LEGACY": "from_env:app", "GATEWAY_V2_PREFIX": "/env"}

    config = configure(manifest, flags={"legacy": "from_flag:app"}, environ=environ)

    assert config.options.legacy == "from_flag:app"
    assert config.options.v2_prefix == "/env"
    assert config.options.legacy_prefix == "/old"
    assert config.where == {
        "legacy": "--legacy",
        "v2_prefix": "GATEWAY_V2_PREFIX",
        "legacy_prefix": "team.toml:4",
    }


def test_bad_values_name_their_source() -> None:
    manifest = parse_manifest(
        '[gateway]\nlegacy_threads = 0\nlegacy_prefix = "/api"\ncolour = "blue"\n',
        source="team.toml",
    )

    with pytest.raises(ConfigError) as caught:
        configure(manifest, flags={"v2_prefix": "/api/v2"}, environ={"GATEWAY_STICKY": "x"})

    problems = "\n".join(caught.value.problems)
    assert "team.toml:2: legacy_threads: Input should be greater than or equal to 1" in problems
    assert "team.toml:4: unknown option 'colour'" in problems


@pytest.mark.parametrize(
    "flags",
    [
        {"legacy_prefix": "/api", "v2_prefix": "/api/v2"},
        {"legacy_prefix": "/", "gateway_prefix": "/v2"},
        {"legacy_prefix": "/legacy", "gateway_prefix": "/legacy/_gateway"},
    ],
)
def test_overlapping_prefixes_are_refused(flags: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="must not overlap"):
        configure(Manifest(), flags=flags, environ={})


@pytest.mark.parametrize(
    ("flags", "legacy_base", "own_prefix"),
    [
        ({}, "/legacy", ""),
        ({"legacy_prefix": "/"}, "", "/_gateway"),
        ({"legacy_prefix": "/", "gateway_prefix": "/ops"}, "", "/ops"),
        ({"gateway_prefix": "/ops"}, "/legacy", "/ops"),
    ],
)
def test_the_gateway_moves_aside_for_a_legacy_app_at_the_root(
    flags: dict[str, str], legacy_base: str, own_prefix: str
) -> None:
    options = configure(Manifest(), flags=flags, environ={}).options

    assert (options.legacy_base, options.own_prefix) == (legacy_base, own_prefix)


@pytest.mark.parametrize("prefix", ["//", "/legacy/", "legacy", ""])
def test_a_legacy_prefix_is_the_root_or_path_segments(prefix: str) -> None:
    with pytest.raises(ConfigError, match="must be '/' or look like '/legacy'"):
        configure(Manifest(), flags={"legacy_prefix": prefix}, environ={})


def test_states_beyond_legacy_need_a_v2_app() -> None:
    manifest = parse_manifest(
        '[gateway]\nlegacy = "x:app"\n\n[[module]]\nname = "tags"\npaths = ["/tags"]\n'
        'state = "shadow"\nshadow_sample_rate = 0.5\n',
        source="team.toml",
    )

    with pytest.raises(ConfigError) as caught:
        configure(manifest, environ={})

    assert caught.value.problems == [
        "team.toml:4: module tags: state shadow needs a v2 app: "
        "set v2 in [gateway], GATEWAY_V2 or --v2"
    ]


def test_a_named_manifest_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml", environ={})


def test_without_any_manifest_the_flags_are_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./migration.toml here

    config = load_config(flags={"legacy": "teamapp:app"}, environ={})

    assert config.manifest.modules == ()
    assert config.options.legacy == "teamapp:app"


def test_serve_reports_a_bad_import_string_and_starts_nothing(
    apps_module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(apps_module)
    records = tmp_path / "records.db"

    result = CliRunner().invoke(
        main,
        ["serve", "--legacy", "configured_apps:missing", "--database", f"sqlite:///{records}"],
    )

    assert result.exit_code == 1
    assert (
        "--legacy: legacy = 'configured_apps:missing': 'configured_apps' has no attribute "
        "'missing'" in result.output
    )
    assert not records.exists()


def test_shadowed_writes_need_the_legacy_app_in_the_gateways_process() -> None:
    text = """[gateway]
v2 = "team:v2"
legacy_processes = 2

[[module]]
name = "articles"
paths = ["/api/articles"]
state = "shadow"
shadow_sample_rate = 0.1
shadow_writes = true
write_ignore = ["users.password_hash"]
"""
    manifest = parse_manifest(text, source="team.toml", directory=Path("."))
    with pytest.raises(ConfigError) as caught:
        configure(manifest, environ={})

    (problem,) = caught.value.problems
    assert problem.startswith("team.toml:5: module articles: shadow_writes needs the legacy app")
    assert problem.endswith("legacy_processes is 2 (team.toml:3): set it to 0")
    module = configure(manifest, flags={"legacy_processes": 0}, environ={}).manifest.modules[0]
    assert (module.shadow_writes, module.write_ignore) == (True, ("users.password_hash",))


def test_a_write_ignore_entry_names_a_table_and_a_column() -> None:
    text = '[[module]]\nname = "a"\npaths = ["/a"]\nwrite_ignore = ["password_hash"]\n'
    with pytest.raises(ConfigError, match="write_ignore"):
        parse_manifest(text, source="team.toml", directory=Path("."))
