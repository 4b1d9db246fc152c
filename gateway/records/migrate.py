"""Apply the gateway's own migrations from code, whatever the working directory.

They live in the installed package (``gateway/records/migrations``) with their own version table,
so they never meet an application's Alembic history, even in the same database.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL

from gateway.records.drivers import sync_url
from gateway.records.tables import SCHEMA, VERSION_TABLE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | URL) -> Config:
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise RuntimeError(f"the gateway's migrations are missing from {MIGRATIONS_DIR}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # An object, not an ini option: ini values treat "%" in a password as interpolation.
    config.attributes["url"] = sync_url(url)
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(url: str | URL) -> str | None:
    """The revision the records are at; None before the first upgrade."""
    url = sync_url(url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return None  # a status query must not create the file
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            schema = None if connection.dialect.name == "sqlite" else SCHEMA
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "version_table_schema": schema}
            )
            return context.get_current_revision()
    finally:
        engine.dispose()
