"""Fixtures shared by every test package.

The whole suite runs against one real database: a SQLite file by default, or the server
named by ``GATEWAY_TEST_DATABASE_URL`` (the test command sets it for the PostgreSQL pass).
Tables are created once per session and emptied after each test.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gateway.records import migrate as gateway_migrate
from gateway.records.store import RecordStore
from gateway.records.urls import records_url
from shared.db import Database
from shared.models import Base
from shared.settings import Environment, Settings
from tests.gateways import conduit_gateway
from tests.inprocess import BASE_URL, InProcessTransport, app_transport
from tests.postgres import URL_VARIABLE

# Set by the PostgreSQL pass of `make test`: only the tests that reach the database run
# again there (the `settings` fixture, or the `database` marker), but for those marked
# `any_database` (their subject does not depend on it); the SQLite pass has run the others.
DATABASE_ONLY_VARIABLE = "GATEWAY_TEST_DATABASE_ONLY"
TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
# Small enough that tests cross it cheaply, large enough for every ordinary request.
TEST_MAX_BODY_BYTES = 256 * 1024


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var_dir = tmp_path_factory.mktemp("var")
    url = os.environ.get("GATEWAY_TEST_DATABASE_URL") or f"sqlite:///{var_dir / 'conduit.db'}"
    return Settings(
        environment=Environment.test,
        var_dir=var_dir,
        database={"url": url},
        jwt={"secret": TEST_JWT_SECRET, "kid": "test"},
        max_body_bytes=TEST_MAX_BODY_BYTES,
    )


@pytest.fixture(scope="session")
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.database)
    Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)
    yield db
    asyncio.run(db.dispose_async())


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database" not in request.fixturenames:
        return
    db: Database = request.getfixturevalue("database")
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        else:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def records(settings: Settings) -> Iterator[RecordStore]:
    """The gateway's records beside the suite's database, migrated with its own migrations."""
    url = records_url(settings.database.url)
    gateway_migrate.upgrade(url)
    store = RecordStore(url)
    yield store
    asyncio.run(store.dispose())


@pytest.fixture(scope="session")
def gateway_app(settings: Settings, database: Database, records: RecordStore) -> FastAPI:
    """The gateway as the shipped manifest configures it, on the suite's database."""
    return conduit_gateway(settings, database, records)


@pytest.fixture(scope="session")
def gateway_transport(gateway_app: FastAPI) -> Iterator[InProcessTransport]:
    """The gateway started in-process (its lifespan entered once), for every ``client``."""
    with app_transport(gateway_app) as transport:
        yield transport


@pytest.fixture
def client(gateway_transport: InProcessTransport, database: Database) -> Iterator[httpx.Client]:
    """An HTTP client of the gateway in-process, with its own cookie jar; no socket."""
    with httpx.Client(transport=gateway_transport, base_url=BASE_URL, timeout=30) as http:
        yield http


def pytest_report_header() -> str:
    url = os.environ.get("GATEWAY_TEST_DATABASE_URL")
    return f"database: {url.rsplit('@', 1)[-1] if url else 'SQLite file (default)'}"


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker gets a PostgreSQL database of its own (the suite's
    name with the worker's), made here before any test reads the URL: the workers' tests
    never see each other's rows, connections or truncations."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    server = os.environ.get(URL_VARIABLE, "")
    if not worker or not server.startswith("postgres"):
        return
    url = make_url(server)
    own = url.set(database=f"{url.database}_{worker}")
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{own.database}"')
    os.environ[URL_VARIABLE] = own.render_as_string(hide_password=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get(DATABASE_ONLY_VARIABLE):
        return
    kept, deselected = [], []
    for item in items:
        reaches = "settings" in getattr(item, "fixturenames", ())
        reaches = reaches and item.get_closest_marker("any_database") is None
        (kept if reaches or item.get_closest_marker("database") else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
