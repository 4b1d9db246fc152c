"""Alembic environment of the gateway's own records (not of any application).

Run from :mod:`gateway.records.migrate` the URL arrives in ``config.attributes``; run through the
``alembic`` command (``alembic -c gateway/records/migrations/alembic.ini``, to write a revision) it
comes from ``GATEWAY_DATABASE``. Only the gateway's tables are considered, and the version
table is the gateway's own, so an application's history in the same database is untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL
from sqlalchemy_utc import UtcDateTime

from gateway.records.drivers import sync_url
from gateway.records.tables import SCHEMA, VERSION_TABLE, GatewayBase

config = context.config


def _url() -> URL:
    url: URL | None = config.attributes.get("url")
    if url is not None:
        return url
    return sync_url(os.environ.get("GATEWAY_DATABASE", "sqlite:///var/gateway-autogen.db"))


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Revisions must not import gateway types: the column is a plain aware datetime.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _ours(name: str | None, type_: str, parent_names: Any) -> bool:
    # Autogenerate for the gateway must never propose dropping an application's tables.
    return type_ != "table" or name in GatewayBase.metadata.tables


def run_migrations_online() -> None:
    url = _url()
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            if not sqlite:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
                connection.execute(text(f'SET search_path TO "{SCHEMA}"'))
                connection.commit()
                connection.dialect.default_schema_name = SCHEMA
            context.configure(
                connection=connection,
                target_metadata=GatewayBase.metadata,
                version_table=VERSION_TABLE,
                version_table_schema=None if sqlite else SCHEMA,
                include_name=_ours,
                render_item=_render_item,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the gateway's migrations run online only (gateway db upgrade)")
run_migrations_online()
