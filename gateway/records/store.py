"""The connection to the gateway's records: its own engines, never the application's.

Creating a store opens no connection. On PostgreSQL every connection's search path is the
gateway's schema, so the records' unqualified table names resolve there; on SQLite a busy
timeout lets a records write wait for the lock instead of failing.

A health probe's waits on PostgreSQL all end within ``WAIT_SECONDS`` (``deadlines.within``),
and ``/health`` never waits for the probe longer than that, whatever the database does.
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

from gateway.records.deadlines import (
    DeadlineAsyncQueuePool,
    DeadlineQueuePool,
    async_connect_args,
    connect_with_deadline,
    within,
)
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


def _deadlines(url: URL, *, asynchronous: bool) -> dict[str, Any]:
    """Bounded waits on a PostgreSQL server that is down or silent. A statement has no
    deadline of its own (a parity report may rightly take long); inside a ``within`` block,
    the block's applies, to the wait for a pooled connection too."""
    if url.get_backend_name() == "sqlite":
        return {}
    libpq = {"connect_timeout": int(WAIT_SECONDS), "tcp_user_timeout": 10_000}
    return {
        "pool_timeout": WAIT_SECONDS,
        "poolclass": DeadlineAsyncQueuePool if asynchronous else DeadlineQueuePool,
        "connect_args": {**libpq, **async_connect_args(None)} if asynchronous else libpq,
    }


class RecordStore:
    def __init__(self, url: str | URL) -> None:
        self.url = sync_url(url)
        self.engine: Engine = create_engine(
            self.url, pool_pre_ping=True, **_deadlines(self.url, asynchronous=False)
        )
        self.async_engine: AsyncEngine = create_async_engine(
            async_url(url), pool_pre_ping=True, **_deadlines(self.url, asynchronous=True)
        )
        if self.url.get_backend_name() != "sqlite":
            connect_with_deadline(self.engine, None)
        on_connect(self.engine)
        on_connect(self.async_engine.sync_engine)
        # Probes still running after /health answered without them (see ``ping``).
        self._probes: set[asyncio.Task[bool]] = set()
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
        """Whether the records answer ``SELECT 1``, known within ``WAIT_SECONDS``.

        The probe is waited for, never cancelled: psycopg answers a query cancelled in flight
        by asking the server to cancel it and waiting for that, up to 10 s more from a server
        that does not answer (measured: /health took 13 s). Left running, the probe ends
        within its own ``within`` block just after, its unanswered connection closed and so
        dropped by the pool, which stays fit for the probes after a thaw.
        """
        probe = asyncio.ensure_future(self._select_one())
        self._probes.add(probe)
        probe.add_done_callback(self._probes.discard)
        done, _ = await asyncio.wait({probe}, timeout=WAIT_SECONDS)
        return probe in done and probe.result()

    async def _select_one(self) -> bool:
        try:
            with within(WAIT_SECONDS):
                async with self.async_engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        if self._probes:  # they end within WAIT_SECONDS: let them, not pull the pool away
            await asyncio.wait(set(self._probes))
        await self.async_engine.dispose()
        self.engine.dispose()
