"""The notes app and its v2 behind the gateway, configured by examples/notes/migration.toml alone.

Through a real server: a login on the legacy pages is the same user on v2 (one cookie); JWTs
issued by either side work on the other; both sides read and write the same rows; shadow and
canary work for the API module; ``gateway init`` writes the manifest the example ships.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from sqlalchemy import delete, select

from gateway.app import create_app
from gateway.cli import main
from gateway.config.configuration import configure, load_config
from gateway.config.manifest import parse_manifest
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from gateway.routing.canary import canary_bucket
from tests.examples.conftest import TEST_JWT_SECRET_KEY, TEST_SECRET_KEY
from tests.examples.helpers import (
    NOTES_DIR,
    MakeUser,
    api_tokens,
    bearer,
    dispose_legacy_engines,
    sign_in,
)
from tests.serving import first_answer, free_port, running_server
from tests.waiting import wait_until

MANIFEST = NOTES_DIR / "migration.toml"


@contextmanager
def browser(url: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Clients of the legacy and the v2 prefix with one cookie jar, as one browser has."""
    with (
        httpx.Client(base_url=f"{url}/legacy", timeout=30) as legacy,
        httpx.Client(base_url=f"{url}/v2", timeout=30) as v2,
    ):
        v2.cookies.jar = legacy.cookies.jar  # httpx copies a jar given to a client
        yield legacy, v2


@contextmanager
def serving(app: FastAPI) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Clients of the legacy and the v2 prefix, sharing one cookie jar like one browser."""
    with running_server(app) as url, browser(url) as clients:
        yield clients


@pytest.fixture(scope="module")
def shipped(notes_environment: None, records: RecordStore) -> Iterator[str]:
    # By configuration alone: the import strings in the example's own manifest.
    app = create_app(load_config(MANIFEST, environ={}))
    with running_server(app) as url:
        yield url
    dispose_legacy_engines(app)


@pytest.fixture
def sides(shipped: str, notes_tables: None) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with browser(shipped) as clients:
        yield clients


def test_a_login_on_the_legacy_pages_is_the_same_user_on_v2(
    sides: tuple[httpx.Client, httpx.Client], make_user: MakeUser
) -> None:
    legacy, v2 = sides
    grace = make_user("grace", "grace-password")

    signed_in = sign_in(legacy, "grace", "grace-password")
    me = v2.get("/api/session")

    assert signed_in.status_code == 302
    assert signed_in.headers["x-served-by"] == "legacy"
    assert me.status_code == 200
    assert me.json() == {"id": grace, "username": "grace"}


def test_a_logout_on_v2_is_read_by_flask(
    sides: tuple[httpx.Client, httpx.Client], make_user: MakeUser
) -> None:
    legacy, v2 = sides
    make_user("grace", "grace-password")
    sign_in(legacy, "grace", "grace-password")
    assert legacy.get("/notes").status_code == 200

    logged_out = v2.delete("/api/session")
    notes_page = legacy.get("/notes")

    assert logged_out.status_code == 204
    assert notes_page.status_code == 302
    assert notes_page.headers["location"].startswith("/legacy/login")
    assert v2.get("/api/session").status_code == 404


def test_tokens_work_both_ways_and_a_revocation_holds_on_both(
    sides: tuple[httpx.Client, httpx.Client], make_user: MakeUser
) -> None:
    legacy, v2 = sides
    make_user("grace", "grace-password")

    from_legacy = api_tokens(legacy, "grace", "grace-password")
    from_v2 = api_tokens(v2, "grace", "grace-password")
    on_v2 = v2.get("/api/notes", headers=bearer(from_legacy["access_token"]))
    on_legacy = legacy.get("/api/notes", headers=bearer(from_v2["access_token"]))
    revoked = legacy.delete("/api/token", headers=bearer(from_v2["access_token"]))
    legacy.cookies.clear()
    refused = [
        side.get("/api/notes", headers=bearer(from_v2["access_token"])) for side in (legacy, v2)
    ]

    assert (on_v2.status_code, on_legacy.status_code) == (200, 200)
    assert on_v2.json() == on_legacy.json() == {"notes": []}
    assert revoked.status_code == 200
    assert [r.status_code for r in refused] == [401, 401]
    assert refused[0].json() == refused[1].json() == {"msg": "Token has been revoked"}


def test_both_sides_read_and_write_the_same_rows(
    sides: tuple[httpx.Client, httpx.Client], make_user: MakeUser
) -> None:
    legacy, v2 = sides
    make_user("grace", "grace-password")
    token = bearer(api_tokens(legacy, "grace", "grace-password")["access_token"])

    written_on_legacy = legacy.post("/api/notes", json={"title": "old", "body": "a"}, headers=token)
    written_on_v2 = v2.post("/api/notes", json={"title": "new", "body": "b"}, headers=token)
    new_id = written_on_v2.json()["id"]
    listed = {
        side: client.get("/api/notes", headers=token).json() for side, client in sides_of(sides)
    }
    read_back = [client.get(f"/api/notes/{new_id}", headers=token).json() for client in sides]

    assert (written_on_legacy.status_code, written_on_v2.status_code) == (201, 201)
    assert [n["title"] for n in listed["legacy"]["notes"]] == ["new", "old"]
    assert listed["legacy"] == listed["v2"]
    assert read_back[0] == read_back[1] == written_on_v2.json()


def sides_of(sides: tuple[httpx.Client, httpx.Client]) -> list[tuple[str, httpx.Client]]:
    return [("legacy", sides[0]), ("v2", sides[1])]


def _moved(api: str) -> FastAPI:
    """The shipped manifest, with the api module in another state."""
    text = MANIFEST.read_text().replace(
        'name = "api"\npaths = ["/api/notes", "/api/notes/*", "/api/token", "/api/token/refresh"]'
        '\nstate = "legacy"',
        'name = "api"\npaths = ["/api/notes", "/api/notes/*", "/api/token", "/api/token/refresh"]'
        f"\n{api}",
    )
    assert text != MANIFEST.read_text()
    return create_app(configure(parse_manifest(text, directory=NOTES_DIR), environ={}))


@contextmanager
def serving_moved(api: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    app = _moved(api)
    try:
        with serving(app) as clients:
            yield clients
    finally:
        dispose_legacy_engines(app)


def test_shadow_compares_the_api_module_and_finds_it_equal(
    notes_environment: None, notes_tables: None, make_user: MakeUser, records: RecordStore
) -> None:
    make_user("grace", "grace-password")
    try:
        with serving_moved('state = "shadow"\nshadow_sample_rate = 1.0') as (legacy, _v2):
            token = bearer(api_tokens(legacy, "grace", "grace-password")["access_token"])
            legacy.post("/api/notes", json={"title": "t", "body": "b"}, headers=token)
            listed = legacy.get("/api/notes", headers=token)
            rows = _comparisons(records, 1)
    finally:
        with records.session() as session, session.begin():
            session.execute(delete(ShadowComparison))

    assert listed.headers["x-served-by"] == "legacy"
    (row,) = rows  # the POSTs were never replayed
    assert (row.module, row.outcome, row.request["path"]) == ("api", "matched", "/legacy/api/notes")


def _comparisons(records: RecordStore, count: int) -> list[ShadowComparison]:
    """The stored comparisons, once there are at least ``count`` of them."""

    def found() -> list[ShadowComparison]:
        with records.session() as session:
            rows = list(session.scalars(select(ShadowComparison)))
        return rows if len(rows) >= count else []

    return wait_until(found, timeout=10, message=f"{count} shadow comparisons")


def test_canary_keeps_each_user_on_one_side_with_the_same_answers(
    notes_environment: None, notes_tables: None, make_user: MakeUser
) -> None:
    ids = [make_user(f"user{n}", "a-password") for n in range(8)]
    expected = {
        n: "v2" if canary_bucket("api", f"sub:{user_id}") < 5000 else "legacy"
        for n, user_id in enumerate(ids)
    }
    assert set(expected.values()) == {"legacy", "v2"}, "8 users should land on both sides"
    moved = 'state = "canary"\ncanary_percent = 50\nkeep_on_legacy = ["DELETE /api/token"]'
    with serving_moved(moved) as (legacy, _v2):
        seen: dict[int, list[str]] = {}
        bodies = []
        for n in range(8):
            token = bearer(api_tokens(legacy, f"user{n}", "a-password")["access_token"])
            answers = [legacy.get("/api/notes", headers=token) for _ in range(3)]
            seen[n] = [a.headers["x-served-by"] for a in answers]
            bodies += [a.json() for a in answers]

    assert all(sides == [expected[n]] * 3 for n, sides in seen.items())
    assert bodies == [{"notes": []}] * 24


def test_gateway_init_writes_the_manifest_the_example_ships(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notes_environment: None
) -> None:
    monkeypatch.chdir(NOTES_DIR)
    output = tmp_path / "notes.toml"
    runner = CliRunner()

    written = runner.invoke(
        main,
        [
            "init",
            "--legacy",
            "notes_app:create_app",
            "--v2",
            "notes_v2:create_app",
            "-o",
            str(output),
        ],
    )
    checked = runner.invoke(main, ["manifest", "check", str(output)])

    assert written.exit_code == 0, written.output
    assert checked.exit_code == 0, checked.output
    shipped = tomllib.loads(MANIFEST.read_text())
    assert tomllib.loads(output.read_text())["module"] == shipped["module"]


def test_gateway_serve_runs_the_example_from_its_manifest(tmp_path: Path) -> None:
    """The same command as for Conduit, another manifest: nothing else differs."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "NOTES_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'notes.db'}",
        "NOTES_SECRET_KEY": TEST_SECRET_KEY,
        "NOTES_JWT_SECRET_KEY": TEST_JWT_SECRET_KEY,
    }
    command = [sys.executable, "-m", "gateway.cli", "serve", "--manifest", str(MANIFEST)]
    with log.open("wb") as output:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        login_page = first_answer(f"{base}/legacy/login", proc, output=log.read_text)
        session = httpx.get(f"{base}/v2/api/session")
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    assert login_page.status_code == 200
    assert 'name="csrf_token"' in login_page.text
    assert (session.status_code, session.json()) == (404, {"msg": "Session not found"})
    assert (tmp_path / "notes.gateway.db").is_file()  # the records beside the app's data
