"""Alembic environment: the shared models are the target, the gateway settings give the URL.

Run through ``shared.migrate`` (``gateway db upgrade``) the URL arrives in
``config.attributes`` and there is no ini file; run through the ``alembic`` command the URL
comes from the ``GATEWAY_*`` settings and logging from ``alembic.ini``. So migrating from
inside the gateway never replaces the application's logging.
"""

from __future__ import annotations

from logging.config import fileConfig
from pathlib import Path
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL
from sqlalchemy_utc import UtcDateTime

from gateway.records.drivers import sync_url
from shared.models import Base
from shared.settings import Settings

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> URL:
    url: URL | None = config.attributes.get("url")
    return url if url is not None else sync_url(Settings().database.url)


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Revisions must not import application types: the column is a plain aware datetime.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=Base.metadata,
        render_item=_render_item,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    url = _url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # A plain engine: SQLite foreign keys stay off here, as batch migrations that
    # recreate a table would otherwise cascade-delete the rows that refer to it.
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _configure(
                connection=connection,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
