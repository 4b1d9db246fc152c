"""The gateway's own tables: own migrations and version table, beside any application's.

Checked on the suite's database (SQLite, or PostgreSQL in the second pass): on a database
that already holds the application's tables, and on a separate one; the application's
Alembic history and autogenerate never see the gateway's tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import URL

from gateway.records import migrate as gateway_migrate
from gateway.records.drivers import sync_url
from gateway.records.tables import SCHEMA, VERSION_TABLE, GatewayBase
from gateway.records.urls import records_url
from shared import migrate as conduit_migrate
from shared.models import Base
from shared.settings import Settings

pytestmark = pytest.mark.database  # the PostgreSQL pass runs it again

POSTGRES = os.environ.get("GATEWAY_TEST_DATABASE_URL", "").startswith("postgres")
GATEWAY_TABLES = set(GatewayBase.metadata.tables)
_NOT_SOURCE = shutil.ignore_patterns("__pycache__", ".ruff_cache", ".mypy_cache")


def _tables(url: URL | str, schema: str | None = None) -> set[str]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names(schema=schema))
    finally:
        engine.dispose()


@pytest.fixture
def application_db(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A database with Conduit's tables built by Conduit's own migrations."""
    if POSTGRES:
        url = sync_url(os.environ["GATEWAY_TEST_DATABASE_URL"])
        name = "records_test"
        admin = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        app_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        app_url = f"sqlite:///{tmp_path / 'app.db'}"
    app_settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": app_url})}
    )
    conduit_migrate.upgrade(app_settings)
    yield app_settings
    if POSTGRES:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_beside_the_application_the_histories_stay_apart(application_db: Settings) -> None:
    app_url = application_db.database.url
    url = records_url(app_url)

    gateway_migrate.upgrade(url)

    assert gateway_migrate.current_revision(url) == gateway_migrate.head_revision()
    assert conduit_migrate.current_revision(application_db) == conduit_migrate.head_revision(
        application_db
    )
    app_tables = _tables(app_url)
    assert GATEWAY_TABLES.isdisjoint(app_tables)
    assert VERSION_TABLE not in app_tables
    if POSTGRES:  # the same database, the gateway's own schema
        assert url == sync_url(app_url)
        assert _tables(url, SCHEMA) == GATEWAY_TABLES | {VERSION_TABLE}
    else:  # a file beside the application's
        assert Path(url.database or "").name == "app.gateway.db"
        assert _tables(url) == GATEWAY_TABLES | {VERSION_TABLE}


def test_the_applications_autogenerate_never_sees_the_gateway(application_db: Settings) -> None:
    app_url = sync_url(application_db.database.url)
    gateway_migrate.upgrade(records_url(app_url))

    engine = create_engine(app_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_records_in_the_applications_own_database(application_db: Settings) -> None:
    # Named explicitly: the very URL of the application's data.
    url = sync_url(application_db.database.url)

    gateway_migrate.upgrade(url)
    gateway_migrate.upgrade(url)  # twice is harmless

    schema = SCHEMA if POSTGRES else None
    assert _tables(url, schema) >= GATEWAY_TABLES
    assert set(Base.metadata.tables) <= _tables(url)
    assert gateway_migrate.current_revision(url) == gateway_migrate.head_revision()
    gateway_migrate.downgrade(url, "base")
    assert GATEWAY_TABLES.isdisjoint(_tables(url, schema))
    assert set(Base.metadata.tables) <= _tables(url)  # the application's data untouched


def test_records_in_a_separate_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'separate' / 'records.db'}"

    gateway_migrate.upgrade(url)

    assert _tables(url) == GATEWAY_TABLES | {VERSION_TABLE}
