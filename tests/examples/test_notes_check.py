"""``gateway parity check`` on the notes example: Flask-SQLAlchemy on legacy, the bridges on v2.

Its API is behind a JWT (given with ``--header``, as a team gives a test account's). The
writes are sent too: the legacy app's ``db.session`` joins the check's rolled-back sandbox,
v2's sessions come from the bridge, which does the same, and the notes table is left as it
was. A v2 planted to answer the notes it creates upper-cased is caught on the write.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask_jwt_extended import create_access_token
from notes_app.models import Note, db
from sqlalchemy import select

from gateway.cli import main
from tests.examples.helpers import MakeUser
from tests.planted import UpperCased, dispose_notes

MODULE = "notes-api"
SEED = "1"


def shouting_notes_v2() -> Any:
    """The notes example's v2, answering the notes it creates upper-cased."""
    from notes_v2 import create_app

    return UpperCased(create_app(), "/api/notes", status=201)


def _manifest(folder: Path, database_url: str, v2: str) -> Path:
    path = folder / "migration.toml"
    path.write_text(
        f"""[gateway]
legacy = "tests.planted:faithful_notes()"
v2 = "{v2}"
database = "sqlite:///{folder / "records.db"}"

[[module]]
name = "{MODULE}"
paths = ["/api/notes", "/api/notes/*"]

[module.noise]
# A new note's id comes from a sequence PostgreSQL does not roll back; its time is each
# side's own.
"id" = "number"
"created_at" = "timestamp"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def token(notes_app: Flask, make_user: MakeUser, notes_environment: None) -> Iterator[str]:
    user_id = make_user("checker", "checker-password")
    with notes_app.app_context():
        db.session.add_all(Note(owner_id=user_id, title=f"Note {n}", body="b") for n in range(3))
        db.session.commit()
        yield create_access_token(identity=str(user_id), fresh=True)
    dispose_notes()


def _notes(notes_app: Flask) -> set[tuple[Any, ...]]:
    with notes_app.app_context():
        rows = db.session.execute(select(Note.id, Note.owner_id, Note.title, Note.body))
        found = {tuple(row) for row in rows}
        db.session.remove()
    return found


def _check(manifest: Path, token: str) -> Any:
    command = ["parity", "check", MODULE, "--examples", "15", "--seed", SEED]
    command += ["--manifest", str(manifest), "--header", f"Authorization: Bearer {token}"]
    return CliRunner().invoke(main, command)


def test_the_notes_api_answers_alike_writes_included_and_nothing_is_left(
    tmp_path: Path, token: str, notes_app: Flask
) -> None:
    before = _notes(notes_app)

    checked = _check(_manifest(tmp_path, "", "notes_v2:create_app"), token)

    assert checked.exit_code == 0, checked.output
    assert "GET /api/notes: 1 request, both sides alike" in checked.output  # it has no input
    for operation in ("GET /api/notes/{note_id}", "POST /api/notes", "DELETE /api/notes/{note_id}"):
        assert f"{operation}: 15 requests, both sides alike" in checked.output
    assert _notes(notes_app) == before


def test_a_note_created_differently_is_found(tmp_path: Path, token: str) -> None:
    checked = _check(_manifest(tmp_path, "", f"{__name__}:shouting_notes_v2()"), token)

    assert checked.exit_code == 1, checked.output
    assert "POST /api/notes: DIFFERS" in checked.output
    assert "GET /api/notes: 1 request, both sides alike" in checked.output  # it has no input
