"""`gateway routes` and `gateway parity`: what a migrating team reads before a cut-over."""

from __future__ import annotations

from click.testing import CliRunner

import legacy_flask
from gateway.cli import main
from gateway.manifest import parse_manifest
from gateway.reports import legacy_routes, parity
from shared.db import Database
from shared.models import ShadowComparison, ShadowDrop
from shared.settings import Settings

MANIFEST = """\
[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/*", "/api/articles/*/favorite", "/api/articles/feed"]
state = "v2"

[[module]]
name = "comments"
paths = ["/api/articles/*/comments/**"]
state = "canary"
canary_percent = 10

[[module]]
name = "tags"
paths = ["/api/tags"]
state = "shadow"
shadow_sample_rate = 0.25
"""


def test_routes_name_module_state_and_server(settings: Settings, database: Database) -> None:
    legacy = legacy_flask.create_app(settings, database=database)

    rows = {(r.methods, r.path): r for r in legacy_routes(legacy, parse_manifest(MANIFEST))}

    assert len(rows) == 19  # every Conduit operation
    assert rows[("GET", "/legacy/api/articles/{slug}")].served_by == "v2"
    comment = rows[("DELETE", "/legacy/api/articles/{slug}/comments/{comment_id}")]
    assert (comment.module, comment.state) == ("comments", "canary")
    assert comment.served_by == "v2 for 10% of users, legacy for the rest"
    assert rows[("GET", "/legacy/api/tags")].served_by == "legacy (replayed to v2 at 25%)"
    login = rows[("POST", "/legacy/api/users/login")]
    assert (login.module, login.served_by) == ("-", "legacy")


def test_routes_command_lists_both_sides() -> None:
    result = CliRunner().invoke(main, ["routes"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "MODULE", "STATE", "SERVED", "BY"]
    assert any(line.split()[:2] == ["GET", "/legacy/api/tags"] for line in lines)
    assert any(line.split()[:2] == ["GET", "/v2/api/tags"] for line in lines)


def _comparison(module: str, outcome: str, signature: str | None = None) -> ShadowComparison:
    return ShadowComparison(
        module=module,
        outcome=outcome,
        request={"method": "GET", "path": f"/legacy/api/{module}", "query": "", "headers": {}},
        legacy_status=200,
        v2_status=200 if outcome != "error" else None,
        signature=signature,
        diff={"values_changed": {signature: {}}} if signature else None,
        error="v2 raised RuntimeError()" if outcome == "error" else None,
    )


def test_parity_counts_rates_drops_and_groups_mismatches(database: Database) -> None:
    with database.transaction() as session:
        session.add_all(
            [_comparison("tags", "matched") for _ in range(6)]
            + [_comparison("tags", "mismatched", "root['tags'][*]") for _ in range(3)]
            + [_comparison("tags", "mismatched", "status 200 != 500")]
            + [_comparison("tags", "error")]
            + [ShadowDrop(module="tags", dropped=4)]
        )

    with database.session(write=False) as session:
        tags, articles = parity(session, ["tags", "articles"], top=2)

    assert (tags.comparisons, tags.matched, tags.errors, tags.dropped) == (11, 6, 1, 4)
    assert tags.match_rate == 6 / 11
    assert [(m.signature, m.count) for m in tags.mismatches] == [
        ("root['tags'][*]", 3),
        ("status 200 != 500", 1),
    ]
    assert tags.mismatches[0].example["request"]["path"] == "/legacy/api/tags"
    assert (articles.comparisons, articles.match_rate, articles.mismatches) == (0, None, [])
