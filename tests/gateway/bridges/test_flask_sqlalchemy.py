"""FlaskSQLAlchemyBridge: one database and one set of models for Flask views and v2 routes."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.bridges.flask_sqlalchemy import FlaskSQLAlchemyBridge, async_url
from gateway.records.drivers import sync_url
from tests.gateway.bridges.helpers import BridgeServer
from tests.gateway.bridges.legacy_example import AuditEntry, Note

pytestmark = pytest.mark.database  # the PostgreSQL pass runs it again

MODES = ["sync", "async"]


def test_row_written_by_flask_is_read_by_both_v2_dependencies(http: httpx.Client) -> None:
    note_id = http.post("/legacy/notes", json={"body": "written by Flask"}).json()["id"]

    for mode in MODES:
        answer = http.get(f"/v2/notes/{note_id}/{mode}")
        assert answer.status_code == 200, mode
        assert answer.json() == {"id": note_id, "body": "written by Flask"}


@pytest.mark.parametrize("mode", MODES)
def test_row_written_by_v2_is_read_by_flask(http: httpx.Client, mode: str) -> None:
    written = http.post(f"/v2/notes/{mode}", json={"body": f"written by v2 {mode}"})
    assert written.status_code == 201

    answer = http.get(f"/legacy/notes/{written.json()['id']}")

    assert answer.status_code == 200
    assert answer.json() == {"id": written.json()["id"], "body": f"written by v2 {mode}"}


@pytest.mark.parametrize("mode", MODES)
def test_bind_key_routes_the_model_to_its_own_database(
    http: httpx.Client, server: BridgeServer, mode: str
) -> None:
    written = http.post(f"/v2/audit/{mode}", json={"message": f"audited {mode}"})
    assert written.status_code == 201

    assert http.get(f"/legacy/audit/{written.json()['id']}").json() == {
        "id": written.json()["id"],
        "message": f"audited {mode}",
    }
    audit_engine = server.notes_db.engines["audit"]
    with audit_engine.connect() as conn:
        messages = conn.scalars(select(AuditEntry.message)).all()
    assert messages == [f"audited {mode}"]
    # Each table exists only in its own bind's database.
    assert not inspect(server.notes_db.engines[None]).has_table(AuditEntry.__tablename__)
    assert not inspect(audit_engine).has_table(Note.__tablename__)


@pytest.mark.parametrize("mode", MODES)
def test_route_that_raises_after_adding_a_row_writes_nothing(
    http: httpx.Client, server: BridgeServer, mode: str
) -> None:
    answer = http.post(f"/v2/notes/{mode}/fail", json={"body": f"never stored {mode}"})

    assert answer.status_code == 409
    with server.notes_db.engines[None].connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(Note))
    assert stored == 0


def test_sessions_are_closed_after_each_request(http: httpx.Client, server: BridgeServer) -> None:
    sync_pool = server.notes_db.engines[None].pool
    async_pool = server.notes_db.async_engines[None].pool
    note_id = http.post("/legacy/notes", json={"body": "read many times"}).json()["id"]

    # While a route runs, its session holds a connection from its own pool...
    assert http.get("/v2/pool/sync").json() == {"checked_out": 1}
    assert http.get("/v2/pool/async").json() == {"checked_out": 1}
    for mode in MODES:
        assert http.get(f"/v2/notes/{note_id}/{mode}").status_code == 200
        assert http.post(f"/v2/notes/{mode}", json={"body": "more"}).status_code == 201
        assert http.post(f"/v2/notes/{mode}/fail", json={"body": "none"}).status_code == 409

    # ...and every one is back once the answers are in.
    assert (sync_pool.checkedout(), async_pool.checkedout()) == (0, 0)  # type: ignore[attr-defined]
    assert sync_pool.checkedin() >= 1  # type: ignore[attr-defined]
    assert async_pool.checkedin() >= 1  # type: ignore[attr-defined]


@pytest.mark.skipif(
    not os.environ.get("GATEWAY_TEST_DATABASE_URL"), reason="pg_stat_activity is PostgreSQL's"
)
def test_no_connection_is_left_idle_in_transaction(
    http: httpx.Client, server: BridgeServer
) -> None:
    note_id = http.post("/legacy/notes", json={"body": "read in a transaction"}).json()["id"]
    # Reads open a transaction (autobegin) that the routes never commit.
    for mode in MODES:
        assert http.get(f"/v2/notes/{note_id}/{mode}").status_code == 200
        assert http.get(f"/v2/pool/{mode}").status_code == 200
        assert http.post(f"/v2/notes/{mode}/fail", json={"body": "none"}).status_code == 409

    observer = create_engine(sync_url(os.environ["GATEWAY_TEST_DATABASE_URL"]))
    try:
        with observer.connect() as conn:
            states = conn.execute(
                text(
                    "SELECT state, count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " GROUP BY state"
                )
            ).all()
    finally:
        observer.dispose()
    counts = dict(states)
    assert counts.get("idle", 0) >= 2  # the pooled connections the requests used, at rest
    assert {state for state in counts if state and state.startswith("idle in transaction")} == set()


def test_async_url_keeps_the_database_and_swaps_the_driver() -> None:
    cases = {
        "sqlite:////srv/app.db": "sqlite+aiosqlite:////srv/app.db",
        "sqlite+pysqlite:////srv/app.db": "sqlite+aiosqlite:////srv/app.db",
        "postgresql://u:pw@db:5433/app?sslmode=require": (
            "postgresql+psycopg://u:pw@db:5433/app?sslmode=require"
        ),
        "postgresql+psycopg2://u:pw@db/app": "postgresql+psycopg://u:pw@db/app",
        "postgresql+psycopg://u:pw@db/app": "postgresql+psycopg://u:pw@db/app",
        "postgresql+pg8000://u:pw@db/app": "postgresql+psycopg://u:pw@db/app",
    }
    for url, expected in cases.items():
        assert async_url(make_url(url)).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql+pymysql://app:s3cret@db/app",
            "unsupported database 'mysql+pymysql://app:***@db/app'",
        ),
        ("sqlite://", "an in-memory SQLite database (sqlite://) cannot be shared"),
        ("sqlite:///:memory:", "an in-memory SQLite database (sqlite:///%3Amemory%3A)"),
    ],
)
def test_async_url_refuses_what_it_cannot_share(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as refused:
        async_url(make_url(url))

    assert "s3cret" not in str(refused.value)


def test_bridge_uses_the_app_extension_and_its_resolved_sqlite_path(tmp_path: Path) -> None:
    app = Flask("relative_sqlite", instance_path=str(tmp_path))
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///relative.db"
    extension = SQLAlchemy(app)

    bridge = FlaskSQLAlchemyBridge(app)

    assert bridge.db is extension
    # Flask-SQLAlchemy put the file in the instance folder; the async engine opens the same.
    assert bridge.async_engines[None].url.database == str(tmp_path / "relative.db")
    assert bridge.async_engines[None].url.drivername == "sqlite+aiosqlite"


def scratch_app(tmp_path: Path) -> tuple[Flask, SQLAlchemy]:
    """An app with a default database and a ``side`` bind, no connection ever opened."""

    class Base(DeclarativeBase):
        pass

    app = Flask("scratch", instance_path=str(tmp_path))
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'main.db'}",
        SQLALCHEMY_BINDS={"side": f"sqlite:///{tmp_path / 'side.db'}"},
    )
    return app, SQLAlchemy(app, model_class=Base)


def test_a_model_declared_after_the_bridge_still_goes_to_its_bind(tmp_path: Path) -> None:
    app, scratch_db = scratch_app(tmp_path)
    bridge = FlaskSQLAlchemyBridge(app)

    class Late(scratch_db.Model):  # type: ignore[name-defined,misc]
        __bind_key__ = "side"
        __tablename__ = "bridge_late"
        id: Mapped[int] = mapped_column(primary_key=True)

    sessions = bridge.session()
    assert next(sessions).get_bind(Late) is bridge.engines["side"]
    sessions.close()

    async def async_bind() -> Any:
        async_sessions = bridge.async_session()
        try:
            return (await anext(async_sessions)).sync_session.get_bind(Late)
        finally:
            await async_sessions.aclose()
            await bridge.dispose()

    assert asyncio.run(async_bind()) is bridge.async_engines["side"].sync_engine


def test_a_bind_key_missing_from_the_config_is_refused(tmp_path: Path) -> None:
    app, scratch_db = scratch_app(tmp_path)

    class Stray(scratch_db.Model):  # type: ignore[name-defined,misc]
        __bind_key__ = "nowhere"
        __tablename__ = "bridge_stray"
        id: Mapped[int] = mapped_column(primary_key=True)

    with pytest.raises(ValueError, match="bind key 'nowhere' of bridge_stray is not in SQLALCHEMY"):
        FlaskSQLAlchemyBridge(app)
