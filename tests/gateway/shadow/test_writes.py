"""Shadowed writes through a real server: v2 answers first in a transaction that is always
rolled back, legacy serves the client, and the answers and the rows each side wrote are
compared.

The Conduit apps share one database; every check of what is left reads all its tables
through a connection of the test's own, after the gateway has answered.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import create_engine, insert, inspect, select, text
from starlette.types import Receive, Scope, Send

import legacy_flask
import v2 as conduit_v2
from gateway.app import create_app
from gateway.config.configuration import load_config
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from shared.db import Database
from shared.models import Tag
from shared.settings import Settings
from tests.conduit import Api
from tests.planted import forget_module, shadowed
from tests.serving import running_server
from tests.waiting import wait_until

MODULE = "written-articles"
# The module's lines: writes shadowed, and the timestamps of a new article (each side made
# its own, a few milliseconds apart) as noise.
WRITES = """shadow_writes = true
write_ignore = ["users.password_hash"]

[module.noise]
"article.createdAt" = "timestamp"
"article.updatedAt" = "timestamp"
"""
_BUILT: dict[str, Any] = {}


def built_legacy() -> Flask:
    return _BUILT["legacy"]  # type: ignore[no-any-return]


def built_v2() -> Any:
    return _BUILT["v2"]


class AfterWrites:
    """v2, doing ``extra`` once it has answered a write: what a divergent v2 does."""

    def __init__(self, app: Any, extra: Callable[[], Any]) -> None:
        self.app = app
        self.extra = extra

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # its routes and OpenAPI, for the gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] == "POST":
            await self.extra()


@pytest.fixture
def conduit(
    settings: Settings, database: Database, records: RecordStore
) -> Iterator[dict[str, Any]]:
    _BUILT["legacy"] = legacy_flask.create_app(settings, database=database)
    _BUILT["v2"] = conduit_v2.create_app(settings, database=database)
    _BUILT["database"] = database
    yield _BUILT
    _BUILT.clear()
    forget_module(records, MODULE)


def _manifest(tmp_path: Path, records: RecordStore) -> Path:
    return shadowed(
        tmp_path,
        records,
        module=MODULE,
        paths=["/api/articles", "/api/articles/**"],
        legacy=f"{__name__}:built_legacy()",
        v2=f"{__name__}:built_v2()",
        module_lines=WRITES,
    )


def _rows(settings: Settings) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of every table, read on a connection of the test's own."""
    engine = create_engine(settings.database.url)
    try:
        with engine.connect() as connection:
            return {
                table: {tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))}
                for table in inspect(connection).get_table_names()
                if table != "alembic_version"
            }
    finally:
        engine.dispose()


def _comparisons(records: RecordStore, count: int) -> list[ShadowComparison]:
    def recorded() -> list[ShadowComparison] | None:
        with records.session() as session:
            rows = session.scalars(
                select(ShadowComparison)
                .where(ShadowComparison.module == MODULE)
                .order_by(ShadowComparison.id)
            ).all()
        return list(rows) if len(rows) >= count else None

    found = wait_until(recorded, timeout=30, message=f"{count} comparisons of {MODULE}")
    assert found is not None
    return found


def _write_through_gateway(
    manifest: Path, records: RecordStore, settings: Settings
) -> tuple[httpx.Response, dict[str, set[tuple[Any, ...]]]]:
    app = create_app(load_config(manifest, environ={}), store=records)
    with running_server(app) as url, httpx.Client(base_url=f"{url}/legacy/api", timeout=30) as http:
        api = Api(http=http, prefix="")
        author = api.register("writer")  # /api/users is not the module's: not shadowed
        before = _rows(settings)
        article = {"title": "Shadowed", "description": "d", "body": "b", "tagList": ["x", "y"]}
        created = api.post("/articles", user=author, json={"article": article})
        _comparisons(records, 1)
        return created, before


def test_a_shadowed_write_leaves_only_legacys_rows_and_matches(
    conduit: dict[str, Any], tmp_path: Path, records: RecordStore, settings: Settings
) -> None:
    created, before = _write_through_gateway(_manifest(tmp_path, records), records, settings)

    assert created.status_code == 201, created.text
    assert created.headers["x-served-by"] == "legacy"  # the client's answer is legacy's
    after = _rows(settings)
    added = {table: after[table] - before[table] for table in after}
    # One article, its two tags and their links: legacy's, and nothing of v2's turn.
    assert {table: len(rows) for table, rows in added.items() if rows} == {
        "articles": 1,
        "tags": 2,
        "article_tags": 2,
    }
    assert all(before[table] <= after[table] for table in before)  # nothing removed
    (comparison,) = _comparisons(records, 1)
    assert (comparison.outcome, comparison.error) == ("matched", None), comparison.diff
    assert comparison.request["method"] == "POST"


def test_a_planted_write_set_difference_is_reported(
    conduit: dict[str, Any], tmp_path: Path, records: RecordStore, settings: Settings
) -> None:
    database: Database = conduit["database"]

    async def plant_a_tag() -> None:  # through the v2 app's own database: sandboxed
        await database.run(lambda c: c.execute(insert(Tag).values(name="planted")), write=True)

    conduit["v2"] = AfterWrites(conduit["v2"], plant_a_tag)
    created, _ = _write_through_gateway(_manifest(tmp_path, records), records, settings)

    assert created.status_code == 201
    (comparison,) = _comparisons(records, 1)
    assert comparison.outcome == "mismatched"
    assert comparison.signature == "writes: tags insert"  # the answers themselves agree
    assert comparison.diff == {
        "writes": {"legacy only": [], "v2 only": [["tags", "insert", {"name": "planted"}, {}]]}
    }
    tags = {row[1] for row in _rows(settings)["tags"]}
    assert "planted" not in tags  # v2's extra row was rolled back with the rest


def test_a_v2_that_commits_on_its_own_or_calls_out_is_reported(
    conduit: dict[str, Any], tmp_path: Path, records: RecordStore, settings: Settings
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    async def escape() -> None:
        # A database of its own (an audit log, say): on SQLite, a second connection to the
        # app's database would wait for the write lock the sandbox holds.
        engine = create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
        try:
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE audit (line TEXT)"))
                connection.execute(text("INSERT INTO audit VALUES ('written')"))
        finally:
            engine.dispose()
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # "an e-mail"

    conduit["v2"] = AfterWrites(conduit["v2"], escape)
    try:
        _write_through_gateway(_manifest(tmp_path, records), records, settings)
    finally:
        listener.close()

    (comparison,) = _comparisons(records, 1)
    assert comparison.outcome == "error"
    assert comparison.error is not None
    assert "v2 escaped its sandbox: committed on a connection of its own" in comparison.error
    assert f"connected to ('127.0.0.1', {port})" in comparison.error
