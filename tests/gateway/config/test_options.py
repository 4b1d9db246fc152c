"""Options a person can type: lists as people write them, a flag and a description for every
option, and every problem reported at once."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.config.configuration import configure
from gateway.config.errors import ConfigError
from gateway.config.manifest import Manifest, parse_manifest
from gateway.config.sources import env_name, every_option, flag_name
from gateway.records.urls import FALLBACK_RECORDS_URL, records_database

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"/a{os.pathsep}/b", ["/a", "/b"]),
        ("/only", ["/only"]),
        ('["/a", "/b"]', ["/a", "/b"]),
        (f" /a {os.pathsep}{os.pathsep}/b ", ["/a", "/b"]),
    ],
)
def test_python_path_is_written_like_pythonpath(value: str, expected: list[str]) -> None:
    config = configure(Manifest(), environ={"GATEWAY_PYTHON_PATH": value})

    assert config.options.python_path == expected


def test_nested_lists_are_comma_separated() -> None:
    environ = {
        "GATEWAY_SERVER__TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
        "GATEWAY_STICKY_JWT_ALGORITHMS": "HS256,HS512",
    }

    options = configure(Manifest(), environ=environ).options

    assert options.server.trusted_proxies == ["10.0.0.1", "10.0.0.2"]
    assert options.sticky_jwt_algorithms == ["HS256", "HS512"]


def test_a_broken_json_list_is_one_line_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        configure(Manifest(), environ={"GATEWAY_PYTHON_PATH": '["/a"'})

    (problem,) = caught.value.problems
    assert problem.startswith("GATEWAY_PYTHON_PATH: python_path: not a JSON list")


def test_a_flag_for_a_nested_option_says_where_it_came_from() -> None:
    with pytest.raises(ConfigError) as caught:
        configure(Manifest(), flags={"server.max_headers": "3"}, environ={})

    assert caught.value.problems == [
        "--server-max-headers: server.max_headers: Input should be greater than or equal to 10"
    ]


def test_every_option_has_a_described_flag_on_serve() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"], terminal_width=1000)

    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # click wraps long lines
    for name, info in every_option():
        assert info.description, f"{name} has no description"
        assert f"{flag_name(name)} TEXT {info.description} [{env_name(name)}]" in shown


def test_the_readme_table_lists_every_option() -> None:
    rows = re.findall(r"^\| (`[^|]+`) \|", README.read_text(), flags=re.MULTILINE)
    documented = {name for row in rows for name in re.findall(r"`([a-z0-9_.]+)`", row)}

    assert {name for name, _info in every_option()} <= documented


def test_the_fallback_records_file_is_the_one_announced(caplog: pytest.LogCaptureFixture) -> None:
    config = configure(Manifest(), environ={})

    with caplog.at_level(logging.WARNING):
        url = records_database(config, None)

    assert url.database == FALLBACK_RECORDS_URL.removeprefix("sqlite:///")
    assert f"gateway records go to sqlite+pysqlite:///{url.database}" in caplog.text


def test_every_problem_of_a_module_is_reported_at_once() -> None:
    text = """\
[[module]]
name = "articles"
paths = ["/api/articles", "api/oops", "/a/**/b"]
state = "canary"
ignore = ["fine.path", "not a rule"]
shadow_sample_rate = 2

[module.v2_paths]
"/elsewhere" = "/x"
"""
    with pytest.raises(ConfigError) as caught:
        parse_manifest(text, source="m.toml")

    problems = "\n".join(caught.value.problems)
    assert "m.toml:3: module articles paths: path 'api/oops': must start with '/'" in problems
    assert "path '/a/**/b': '**' may only end a pattern" in problems
    assert "m.toml:5: module articles ignore: ignore rule 'not a rule'" in problems
    assert "m.toml:6: module articles shadow_sample_rate:" in problems
    assert "canary_percent: state canary needs canary_percent" in problems
    assert len(caught.value.problems) == 5  # the v2_paths key is not judged on broken paths
