"""The connection to the gateway's records: its own engines, never the application's.

Creating a store opens no connection. On PostgreSQL every connection's search path is the
gateway's schema, so the records' unqualified table names resolve there; on SQLite a busy
timeout lets a records write wait for the lock instead of failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from gateway.records.drivers import async_url, sync_url
from gateway.records.tables import SCHEMA

# How long a records write waits for SQLite's lock.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# The longest a health probe, a connection or a pooled connection is waited for.
WAIT_SECONDS = 3.0


def on_connect(engine: Engine) -> None:
    """Point ``engine``'s connections at the gateway's tables (schema or busy timeout)."""
    sqlite = engine.dialect.name == "sqlite"

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if sqlite:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        else:
            cursor.execute(f'SET search_path TO "{SCHEMA}"')
        cursor.close()
        if not sqlite:
            # The SET opened a transaction on a psycopg connection; end it before pooling.
            dbapi_connection.commit()


def _deadlines(url: URL) -> dict[str, Any]:
    """Bounded waits on a PostgreSQL server that is down or silent."""
    if url.get_backend_name() == "sqlite":
        return {}
    return {
        "pool_timeout": WAIT_SECONDS,
        "connect_args": {"connect_timeout": int(WAIT_SECONDS), "tcp_user_timeout": 10_000},
    }


class RecordStore:
    def __init__(self, url: str | URL) -> None:
        self.url = sync_url(url)
        options = _deadlines(self.url)
        self.engine: Engine = create_engine(self.url, pool_pre_ping=True, **options)
        self.async_engine: AsyncEngine = create_async_engine(
            async_url(url), pool_pre_ping=True, **options
        )
        on_connect(self.engine)
        on_connect(self.async_engine.sync_engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._async_sessions = async_sessionmaker(self.async_engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on any error."""
        async with self._async_sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(WAIT_SECONDS), self.async_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.async_engine.dispose()
        self.engine.dispose()
