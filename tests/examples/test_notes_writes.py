"""Shadowed writes on the notes example: Flask-SQLAlchemy on legacy, the bridge's sessions on v2.

v2's sessions come from ``FlaskSQLAlchemyBridge``, which binds them to the sandbox during
v2's turn; the legacy app's ``db.session`` then writes for real. The tables are read after
each write through a connection of the test's own: only legacy's note is left. A v2 that
writes one row more (a mapper event, planted for the test, that records a revoked token
while it answers) is reported as a write-set difference, and its row is not left either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from notes_app.models import Note, RevokedToken
from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import Connection

from gateway.app import create_app
from gateway.bridges.sandbox import current_sandbox
from gateway.config.configuration import load_config
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from shared.settings import Settings
from tests.examples.helpers import MakeUser, api_tokens, bearer
from tests.planted import dispose_notes, forget_module, shadowed
from tests.serving import running_server
from tests.waiting import wait_until

MODULE = "written-notes"
PASSWORD = "writer-password"
# A new note's id is noise on PostgreSQL, whose sequences v2's rolled-back turn advanced; its
# creation time is each side's own.
LINES = """shadow_writes = true

[module.noise]
"id" = "number"
"created_at" = "timestamp"
"""


@pytest.fixture
def manifest(tmp_path: Path, notes_environment: None, records: RecordStore) -> Iterator[Path]:
    yield shadowed(
        tmp_path,
        records,
        module=MODULE,
        paths=["/api/notes", "/api/notes/*"],
        legacy="tests.planted:faithful_notes()",
        v2="notes_v2:create_app",
        module_lines=LINES,
    )
    dispose_notes()
    forget_module(records, MODULE)


def _count(settings: Settings, table: str) -> int:
    engine = create_engine(settings.database.url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    finally:
        engine.dispose()


def _write_a_note(manifest: Path, records: RecordStore, make_user: MakeUser) -> ShadowComparison:
    make_user("writer", PASSWORD)
    app = create_app(load_config(manifest, environ={}), store=records)
    with running_server(app) as url, httpx.Client(base_url=f"{url}/legacy", timeout=30) as http:
        token = api_tokens(http, "writer", PASSWORD)["access_token"]
        note = {"title": "Shadowed", "body": "written once"}
        created = http.post("/api/notes", json=note, headers=bearer(token))
        assert created.status_code == 201, created.text
        assert created.headers["x-served-by"] == "legacy"

        def recorded() -> ShadowComparison | None:
            with records.session() as session:
                return session.scalars(
                    select(ShadowComparison).where(ShadowComparison.module == MODULE)
                ).first()

        found = wait_until(recorded, timeout=30, message="the write's comparison")
    assert found is not None
    return found


def test_a_shadowed_note_is_written_once_and_matches(
    manifest: Path, records: RecordStore, make_user: MakeUser, settings: Settings
) -> None:
    comparison = _write_a_note(manifest, records, make_user)

    assert (comparison.outcome, comparison.error) == ("matched", None), comparison.diff
    assert _count(settings, Note.__tablename__) == 1  # legacy's: v2's was rolled back


def test_a_v2_writing_one_row_more_is_reported(
    manifest: Path, records: RecordStore, make_user: MakeUser, settings: Settings
) -> None:
    def one_more(_mapper: Any, connection: Connection, note: Note) -> None:
        if current_sandbox() is not None:  # v2's turn only: legacy writes no such row
            connection.execute(insert(RevokedToken).values(jti=f"planted-{note.id}", type="x"))

    event.listen(Note, "after_insert", one_more)
    try:
        comparison = _write_a_note(manifest, records, make_user)
    finally:
        event.remove(Note, "after_insert", one_more)

    assert comparison.outcome == "mismatched"
    assert comparison.signature == "writes: notes_revoked_tokens insert"
    assert comparison.diff is not None
    (extra,) = comparison.diff["writes"]["v2 only"]
    assert extra[:2] == ["notes_revoked_tokens", "insert"]
    assert comparison.diff["writes"]["legacy only"] == []
    assert _count(settings, Note.__tablename__) == 1
    assert _count(settings, RevokedToken.__tablename__) == 0
