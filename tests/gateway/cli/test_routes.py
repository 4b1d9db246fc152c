"""`gateway routes` and `gateway parity`: what a migrating team reads before a cut-over."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

import legacy_flask
import v2
from gateway.cli import main
from gateway.cli.routes import legacy_routes
from gateway.edge.problems import problem
from gateway.mounts.sides import LegacySide, Sides, V2Side
from gateway.records.parity import parity
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison, ShadowDrop
from shared.db import Database
from shared.settings import Settings
from tests.gateways import conduit_config

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

[module.v2_paths]
"/api/tags" = "/api/labels"
"""


def test_routes_name_module_state_and_server(settings: Settings, database: Database) -> None:
    config = conduit_config(MANIFEST)
    app = legacy_flask.create_app(settings, database=database)
    legacy = LegacySide(app, options=config.options, errors=problem)
    sides = Sides(legacy, V2Side(v2.create_app(settings, database=database)))

    rows = {(r.methods, r.path): r for r in legacy_routes(sides, config)}

    assert len(rows) == 19  # every Conduit operation
    assert rows[("GET", "/legacy/api/articles/{slug}")].served_by == "v2 /v2/api/articles/{slug}"
    comment = rows[("DELETE", "/legacy/api/articles/{slug}/comments/{comment_id}")]
    assert (comment.module, comment.state) == ("comments", "canary")
    assert comment.served_by == (
        "v2 /v2/api/articles/{slug}/comments/{comment_id} for 10% of users, legacy for the rest"
    )
    tags = rows[("GET", "/legacy/api/tags")]
    assert tags.served_by == "legacy (replayed to v2 /v2/api/labels at 25%)"
    login = rows[("POST", "/legacy/api/users/login")]
    assert (login.module, login.on_v2, login.served_by) == ("-", "-", "legacy")
    # Conduit's v2 serves every route of the modules, but has no /api/labels: in state
    # shadow that is allowed, and the row says so.
    assert tags.on_v2 == "missing"
    moved = [row for row in rows.values() if row.module not in ("-", "tags")]
    assert len(moved) > 1
    assert {row.on_v2 for row in moved} == {"served"}


def test_routes_command_lists_both_sides() -> None:
    result = CliRunner().invoke(main, ["routes"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["METHOD", "PATH", "MODULE", "STATE", "ON", "V2", "SERVED", "BY"]
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


@pytest.fixture
def empty_records(records: RecordStore) -> Iterator[RecordStore]:
    yield records
    with records.session() as session, session.begin():
        session.execute(delete(ShadowComparison))
        session.execute(delete(ShadowDrop))


def test_parity_counts_rates_drops_and_groups_mismatches(empty_records: RecordStore) -> None:
    with empty_records.session() as session, session.begin():
        session.add_all(
            [_comparison("tags", "matched") for _ in range(6)]
            + [_comparison("tags", "mismatched", "root['tags'][*]") for _ in range(3)]
            + [_comparison("tags", "mismatched", "status 200 != 500")]
            + [_comparison("tags", "error")]
            + [ShadowDrop(module="tags", dropped=4)]
        )

    with empty_records.session() as session:
        tags, articles = parity(session, ["tags", "articles"], top=2)

    assert (tags.comparisons, tags.matched, tags.errors, tags.dropped) == (11, 6, 1, 4)
    assert tags.match_rate == 6 / 11
    assert [(m.signature, m.count) for m in tags.mismatches] == [
        ("root['tags'][*]", 3),
        ("status 200 != 500", 1),
    ]
    assert tags.mismatches[0].example["request"]["path"] == "/legacy/api/tags"
    assert (articles.comparisons, articles.match_rate, articles.mismatches) == (0, None, [])
