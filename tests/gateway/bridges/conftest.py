"""One real server for the bridge tests: the example Flask app and its FastAPI twin side by side.

``/legacy`` is the Flask app behind the gateway's own WSGI bridge (``LegacyMount``, as the
gateway serves a legacy app), ``/v2`` the FastAPI app using the three bridges;
``/rs256/...`` is a pair whose legacy app verifies RS256 tokens, and ``/v2-uninstalled`` uses
the JWT bridge without its exception handler. All share one host, so cookies set by one side
are sent to the other. The database is the suite's (SQLite file or PostgreSQL); the ``audit``
bind is a SQLite file of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from flask import Flask
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.bridges.flask_jwt import FlaskJWTBridge
from gateway.bridges.flask_session import FlaskSessionBridge
from gateway.bridges.flask_sqlalchemy import FlaskSQLAlchemyBridge
from gateway.config.options import GatewayOptions
from gateway.mounts.legacy.mount import LegacyMount
from gateway.records.drivers import sync_url
from shared.settings import Settings
from tests.gateway.bridges.helpers import BridgeServer
from tests.gateway.bridges.legacy_example import (
    create_legacy_app,
    create_rs256_legacy_app,
    db,
)
from tests.gateway.bridges.v2_example import (
    create_rs256_v2_app,
    create_uninstalled_v2_app,
    create_v2_app,
)
from tests.serving import running_server


def _served(app: Flask) -> LegacyMount:
    """``app`` as the gateway serves a legacy app by default: its WSGI bridge, thread count
    and body limit; without the CPU-share controller, so a fixed number of requests run at
    once however busy the machine is."""
    defaults = GatewayOptions()
    return LegacyMount(app, workers=defaults.legacy_threads, max_body_bytes=defaults.max_body_bytes)


def _drop_tables(legacy: Flask) -> None:
    with legacy.app_context():
        for key, metadata in db.metadatas.items():
            with db.engines[key].begin() as conn:
                if conn.dialect.name == "postgresql":
                    # A bridge that leaked a transaction fails its test; it must not hang here.
                    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                metadata.drop_all(conn)


def _empty_tables(legacy: Flask) -> None:
    with legacy.app_context():
        for key, metadata in db.metadatas.items():
            with db.engines[key].begin() as conn:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())


# Package scope: the tables are dropped and the server stopped once these tests are done.
@pytest.fixture(scope="package")
def bridge_server(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BridgeServer]:
    audit_file = tmp_path_factory.mktemp("bridges") / "audit.db"
    legacy = create_legacy_app(
        # Flask-SQLAlchemy needs the driver spelled out, as shared.db does for the gateway.
        database_url=sync_url(settings.database.url).render_as_string(hide_password=False),
        audit_url=f"sqlite:///{audit_file}",
    )
    _drop_tables(legacy)  # what a crashed earlier run may have left on a server database
    with legacy.app_context():
        db.create_all()

    notes_db = FlaskSQLAlchemyBridge(legacy)
    sessions = FlaskSessionBridge(legacy)
    auth = FlaskJWTBridge(legacy)
    rs256_legacy = create_rs256_legacy_app()
    rs256_auth = FlaskJWTBridge(rs256_legacy)
    legacy_mount, rs256_legacy_mount = _served(legacy), _served(rs256_legacy)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # As the gateway does: each legacy mount runs for as long as the server does.
        async with legacy_mount.running(), rs256_legacy_mount.running():
            yield
        await notes_db.dispose()  # on the loop its async connections belong to

    asgi_app = Starlette(
        routes=[
            Mount("/legacy", app=legacy_mount),
            Mount("/v2", app=create_v2_app(notes_db=notes_db, sessions=sessions, auth=auth)),
            Mount("/rs256/legacy", app=rs256_legacy_mount),
            Mount("/rs256/v2", app=create_rs256_v2_app(rs256_auth)),
            Mount("/v2-uninstalled", app=create_uninstalled_v2_app(auth)),
        ],
        lifespan=lifespan,
    )
    try:
        with running_server(asgi_app) as url:
            yield BridgeServer(url, legacy, notes_db, sessions, auth)
    finally:
        _drop_tables(legacy)
        with legacy.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def server(bridge_server: BridgeServer) -> Iterator[BridgeServer]:
    yield bridge_server
    _empty_tables(bridge_server.legacy)


@pytest.fixture
def http(server: BridgeServer) -> Iterator[httpx.Client]:
    """A client of both sides with one cookie jar, as a browser would be."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
