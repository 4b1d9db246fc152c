"""The migrations build exactly the schema the models describe, and tear it down again.

Each test migrates its own empty database: a fresh SQLite file, and also a fresh schema on
the PostgreSQL server when GATEWAY_TEST_DATABASE_URL names one.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, pool, text

from gateway.records.drivers import sync_url
from shared import migrate
from shared.models import Base
from shared.settings import Environment, Settings
from tests.conftest import TEST_JWT_SECRET

pytestmark = pytest.mark.database  # the PostgreSQL pass runs it again


def _backends() -> list[str]:
    url = os.environ.get("GATEWAY_TEST_DATABASE_URL", "")
    return ["sqlite", "postgresql"] if url.startswith("postgres") else ["sqlite"]


@pytest.fixture(params=_backends())
def empty_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings whose database is empty: a new SQLite file or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield _settings(tmp_path, f"sqlite:///{tmp_path / 'migrated.db'}")
        return
    server = sync_url(os.environ["GATEWAY_TEST_DATABASE_URL"])
    schema = f"migration_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, poolclass=pool.NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = server.update_query_dict({"options": f"-csearch_path={schema}"})
        yield _settings(tmp_path, url.render_as_string(hide_password=False))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(
        environment=Environment.test,
        var_dir=tmp_path,
        database={"url": url},
        jwt={"secret": TEST_JWT_SECRET},
    )


@pytest.fixture
def engine(empty_settings: Settings) -> Iterator[Engine]:
    engine = create_engine(sync_url(empty_settings.database.url), poolclass=pool.NullPool)
    yield engine
    engine.dispose()


def _schema_diffs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_builds_the_schema_of_the_models(empty_settings: Settings, engine: Engine) -> None:
    migrate.upgrade(empty_settings)

    assert _schema_diffs(engine) == []
    assert _tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert migrate.current_revision(empty_settings) == migrate.head_revision(empty_settings)


def test_every_foreign_key_cascades_on_delete(empty_settings: Settings, engine: Engine) -> None:
    migrate.upgrade(empty_settings)

    inspector = inspect(engine)
    foreign_keys = [
        fk for table in Base.metadata.tables for fk in inspector.get_foreign_keys(table)
    ]
    assert len(foreign_keys) == sum(len(t.foreign_keys) for t in Base.metadata.tables.values())
    assert {fk["name"]: fk["options"].get("ondelete") for fk in foreign_keys} == {
        fk["name"]: "CASCADE" for fk in foreign_keys
    }


def test_downgrade_to_base_removes_everything_and_upgrade_again_works(
    empty_settings: Settings, engine: Engine
) -> None:
    migrate.upgrade(empty_settings)

    migrate.downgrade(empty_settings, "base")
    assert _tables(engine) <= {"alembic_version"}
    assert migrate.current_revision(empty_settings) is None

    migrate.upgrade(empty_settings)
    assert _schema_diffs(engine) == []


def test_upgrade_does_not_depend_on_the_working_directory(
    empty_settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    migrate.upgrade(empty_settings)

    assert _schema_diffs(engine) == []


def test_upgrade_leaves_the_application_logging_alone(empty_settings: Settings) -> None:
    app_logger = logging.getLogger("gateway.some_module")
    root_handlers = list(logging.getLogger().handlers)
    root_level = logging.getLogger().level

    migrate.upgrade(empty_settings)

    assert not app_logger.disabled
    assert logging.getLogger().handlers == root_handlers
    assert logging.getLogger().level == root_level


def test_current_revision_of_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'absent.db'}")

    assert migrate.current_revision(settings) is None
    assert not (tmp_path / "absent.db").exists()


def test_existing_usernames_get_their_keys_and_look_alikes_both_stay(
    empty_settings: Settings, engine: Engine
) -> None:
    migrate.upgrade(empty_settings, "0003")
    with engine.begin() as conn:
        for n, name in enumerate(["Bob", "bob", "Carol"], start=1):
            conn.execute(
                text(
                    "INSERT INTO users (id, username, email, password_hash, created_at, "
                    "updated_at) VALUES (:id, :name, :email, 'x', :now, :now)"
                ),
                {"id": n, "name": name, "email": f"{n}@example.com", "now": "2026-11-23"},
            )

    migrate.upgrade(empty_settings)

    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT username, username_key FROM users")).all())
    assert keys == {"Bob": "bob", "bob": "bob~2", "Carol": "carol"}
    assert _schema_diffs(engine) == []
