"""``gateway parity learn`` on the notes example, whose API is behind a JWT.

Its legacy app is planted with a random field and a moving timestamp on every JSON answer;
the note list is shadowed through a real server, then learned with a test account's token
(the shadow never stores one): the planted fields are found, each as its kind, and nothing
stable is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.app import create_app
from gateway.cli import main
from gateway.config.configuration import load_config
from gateway.records.store import RecordStore
from gateway.records.tables import NoiseRun, ShadowComparison
from tests.examples.helpers import MakeUser, api_tokens, bearer
from tests.planted import dispose_notes, shadowed
from tests.serving import running_server
from tests.waiting import wait_until

MODULE = "planted-notes"
LISTS = 6
PASSWORD = "learner-password"


@pytest.fixture
def manifest(tmp_path: Path, notes_environment: None, records: RecordStore) -> Iterator[Path]:
    yield shadowed(
        tmp_path,
        records,
        module=MODULE,
        paths=["/api/notes", "/api/notes/*"],
        legacy="tests.planted:notes()",
        v2="notes_v2:create_app",
    )
    dispose_notes()  # the apps the gateway and the command built


def _recorded(records: RecordStore) -> int | None:
    with records.session() as session:
        rows = session.scalars(select(ShadowComparison).where(ShadowComparison.module == MODULE))
        count = len(rows.all())
    return count if count >= LISTS else None


def test_a_module_behind_a_login_is_learned_with_a_test_accounts_token(
    manifest: Path, records: RecordStore, make_user: MakeUser
) -> None:
    make_user("learner", PASSWORD)
    app = create_app(load_config(manifest, environ={}), store=records)
    with running_server(app) as url, httpx.Client(base_url=f"{url}/legacy", timeout=30) as http:
        token = api_tokens(http, "learner", PASSWORD)["access_token"]
        for n in range(2):
            note = {"title": f"Note {n}", "body": "kept"}
            assert http.post("/api/notes", json=note, headers=bearer(token)).status_code == 201
        for _ in range(LISTS):
            assert http.get("/api/notes", headers=bearer(token)).status_code == 200
        wait_until(lambda: _recorded(records), timeout=30, message=f"{LISTS} comparisons")

    command = ["parity", "learn", MODULE, "--manifest", str(manifest)]
    learn = CliRunner().invoke(main, [*command, "--header", f"Authorization: Bearer {token}"])

    assert learn.exit_code == 0, learn.output
    with records.session() as session:
        (run,) = session.scalars(select(NoiseRun).where(NoiseRun.module == MODULE)).all()
    assert run.pairs == 1  # one distinct request: the list
    assert run.paths == {
        "nonce": {"count": 1, "kind": "uuid", "tolerance": None},
        "servedAt": {"count": 1, "kind": "timestamp", "tolerance": None},
    }
