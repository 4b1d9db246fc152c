"""The migration manifest: parsing, path ownership and the errors a team will meet."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.config.errors import ConfigError
from gateway.config.manifest import State, load_manifest, parse_manifest

REPO_MANIFEST = Path(__file__).resolve().parents[3] / "migration.toml"

VALID = """\
[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/*"]
state = "canary"
canary_percent = 25
sunset = 2027-06-30
ignore = ["article.updatedAt"]
deprecated = 2026-11-01

[[module]]
name = "comments"
paths = ["/api/articles/*/comments/**"]
state = "shadow"
shadow_sample_rate = 0.5

[gateway]
legacy = "legacy_flask:create_app"
v2 = "v2:create_app"
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_manifest(text, source="m.toml")
    return caught.value.problems


def test_a_valid_manifest_loads_every_field() -> None:
    manifest = parse_manifest(VALID)

    articles, comments = manifest.modules
    assert (articles.name, articles.state, articles.canary_percent) == (
        "articles",
        State.canary,
        25,
    )
    assert articles.sunset == date(2027, 6, 30)
    assert articles.ignore == ("article.updatedAt",)
    assert (comments.state, comments.shadow_sample_rate) == (State.shadow, 0.5)
    assert (articles.line, comments.line) == (1, 10)
    assert articles.deprecated == date(2026, 11, 1)


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("/api/articles", "articles"),
        ("/api/articles/some-slug", "articles"),
        ("/api/articles/some-slug/comments", "comments"),
        ("/api/articles/some-slug/comments/7", "comments"),
        ("/api/articles/some-slug/favorite", None),
        ("/api/tags", None),
    ],
)
def test_paths_belong_to_the_module_whose_pattern_matches(path: str, module: str | None) -> None:
    found = parse_manifest(VALID).module_for(path)

    assert (found.name if found else None) == module


def test_the_default_manifest_has_every_conduit_module_in_legacy() -> None:
    manifest = load_manifest(REPO_MANIFEST)

    assert {m.name for m in manifest.modules} == {
        "users",
        "profiles",
        "articles",
        "comments",
        "tags",
    }
    assert {m.state for m in manifest.modules} == {State.legacy}
    for path, name in [
        ("/api/users/login", "users"),
        ("/api/user", "users"),
        ("/api/profiles/bob/follow", "profiles"),
        ("/api/articles/feed", "articles"),
        ("/api/articles/s/favorite", "articles"),
        ("/api/articles/s/comments/1", "comments"),
        ("/api/tags", "tags"),
    ]:
        module = manifest.module_for(path)
        assert module is not None, path
        assert module.name == name, path


def test_an_unknown_state_names_its_line() -> None:
    text = VALID.replace('state = "shadow"', 'state = "beta"')

    (problem,) = _problems(text)

    assert problem.startswith("m.toml:13: module comments state:")
    assert "'legacy', 'shadow', 'canary' or 'v2'" in problem


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("canary_percent = 25", "canary_percent = 120", 5, "less than or equal to 100"),
        ("canary_percent = 25", "canary_percent = 0", 5, "needs canary_percent"),
        ("shadow_sample_rate = 0.5", "shadow_sample_rate = 1.5", 14, "less than or equal to 1"),
        ("shadow_sample_rate = 0.5", "shadow_sample_rate = 0", 14, "needs shadow_sample_rate"),
        ("sunset = 2027-06-30", 'sunset = "soon"', 6, "date"),
        ('"/api/articles/*/comments/**"', '"api/comments"', 12, "must start with '/'"),
        ('"/api/articles/*/comments/**"', '"/api/**/comments"', 12, "may only end"),
        ('ignore = ["article.updatedAt"]', 'ignored = ["x"]', 7, "Extra inputs"),
        (
            "canary_percent = 25",
            'canary_percent = 25\nkeep_on_legacy = ["ZAP /api/x"]',
            6,
            "METHOD",
        ),
        ("canary_percent = 25", 'canary_percent = 25\nkeep_on_legacy = ["GET api"]', 6, "'/'"),
        ("canary_percent = 25", 'canary_percent = 25\nkeep_on_legacy = ["GET"]', 6, "METHOD"),
        (
            "canary_percent = 25",
            'canary_percent = 25\nkeep_on_legacy = ["DELETE /api/users"]',
            6,
            "not within the module's paths",
        ),
    ],
)
def test_bad_values_name_the_line_and_the_problem(
    old: str, new: str, line: int, words: str
) -> None:
    problems = _problems(VALID.replace(old, new))

    assert any(p.startswith(f"m.toml:{line}: ") and words in p for p in problems), problems
    assert not any("Value error" in p for p in problems)


def test_overlapping_patterns_are_refused() -> None:
    text = VALID.replace('"/api/articles/*/comments/**"', '"/api/articles/*/favorite"').replace(
        '"/api/articles", "/api/articles/*"', '"/api/articles", "/api/articles/*/*"'
    )

    (problem,) = _problems(text)

    assert problem.startswith("m.toml:10: module comments path '/api/articles/*/favorite' overlaps")
    assert "'/api/articles/*/*' of module articles (line 1)" in problem


def test_duplicate_names_and_bad_toml_are_refused() -> None:
    duplicate = VALID.replace('name = "comments"', 'name = "articles"')

    assert any("already used at line 1" in p for p in _problems(duplicate))
    (syntax,) = _problems("[[module]\nname = 1")
    assert syntax.startswith("m.toml: not valid TOML:")
    assert "line 1" in syntax
    assert _problems("") == ["m.toml:1: neither a [gateway] table nor [[module]] tables"]


def test_manifest_check_command(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(VALID)
    bad = tmp_path / "bad.toml"
    bad.write_text(VALID.replace('state = "canary"', 'state = "later"'))
    runner = CliRunner()

    ok = runner.invoke(main, ["manifest", "check", str(good)])
    failed = runner.invoke(main, ["manifest", "check", str(bad)])
    missing = runner.invoke(main, ["manifest", "check", str(tmp_path / "nope.toml")])

    assert ok.exit_code == 0, ok.output
    assert "2 modules ok (articles=canary, comments=shadow)" in ok.output
    assert failed.exit_code == 1
    assert f"{bad}:4: module articles state:" in failed.output
    assert missing.exit_code == 1
    assert "cannot read" in missing.output


def test_serve_refuses_a_bad_manifest_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(VALID.replace("canary_percent = 25", "canary_percent = 101"))
    monkeypatch.setenv("GATEWAY_MANIFEST", str(bad))
    monkeypatch.setenv("GATEWAY_DATABASE", f"sqlite:///{tmp_path / 'never.db'}")

    result = CliRunner().invoke(main, ["serve", "--port", "0"])

    assert result.exit_code == 1
    assert f"{bad}:5: module articles canary_percent" in result.output
    assert not (tmp_path / "never.db").exists()  # nothing was migrated or served


def test_routes_kept_on_legacy_are_matched_by_method_and_path() -> None:
    text = VALID.replace(
        "canary_percent = 25",
        'canary_percent = 25\nkeep_on_legacy = ["GET /api/articles/*", "DELETE /api/articles"]',
    )
    articles = parse_manifest(text, source="m.toml").module("articles")

    assert articles.keeps("GET", "/api/articles/one")
    assert articles.keeps("HEAD", "/api/articles/one")  # HEAD follows GET
    assert articles.keeps("OPTIONS", "/api/articles")  # its Allow names the kept DELETE
    assert articles.keeps("DELETE", "/api/articles")
    assert not articles.keeps("PUT", "/api/articles/one")
    assert not articles.keeps("GET", "/api/articles")
    assert not parse_manifest(VALID, source="m.toml").module("articles").keeps("GET", "/api/x")
