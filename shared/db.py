"""Engines and sessions: a sync engine for Flask and an async engine for v2, on one URL.

SQLite runs in WAL mode so readers never block the writer. Write transactions start with
``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes can fail at once with
"database is locked" when another connection committed in between (SQLite cannot wait out
that case), whereas an immediate one queues on the busy timeout like any lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from gateway.bridges.sandbox import SAVEPOINTS, current_sandbox
from gateway.records.deadlines import (
    DeadlineAsyncQueuePool,
    DeadlineQueuePool,
    async_connect_args,
    connect_with_deadline,
    within,
)
from gateway.records.drivers import async_url, sync_url
from shared.settings import DatabaseSettings

T = TypeVar("T")

_WRITE_OPTION = "conduit_write"
# Threads that run v2's units of work on SQLite (see Database.run). One reader: a WAL read
# never waits for a lock, it is CPU work under the interpreter lock, and a second reader
# thread only adds contention (measured: tags 1160 -> 1550 req/s with one). One writer:
# SQLite takes one writer at a time anyway, and v2's writes then queue here, in order,
# instead of on SQLite's busy handler, which sleeps in growing steps.
SQLITE_READ_THREADS = 1
SQLITE_WRITE_THREADS = 1
# A health probe must answer promptly even when the database does not: all its waits end
# within this (see ``ping``).
PING_TIMEOUT_SECONDS = 3.0


def _prepare_sqlite(url: URL, settings: DatabaseSettings) -> dict[str, Any]:
    if url.database in (None, "", ":memory:"):
        raise ValueError("use a SQLite file: two engines cannot share an in-memory database")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return {}


def _install_sqlite_hooks(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below choose how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def postgres_deadlines(settings: DatabaseSettings) -> dict[str, Any]:
    """libpq parameters that bound every wait: connecting, a statement, a silent peer."""
    return {
        "connect_timeout": settings.connect_timeout_seconds,
        "options": f"-c statement_timeout={int(settings.statement_timeout_seconds * 1000)}",
        "tcp_user_timeout": int(settings.tcp_user_timeout_seconds * 1000),
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or answered too late (a 503), as
    opposed to a bug (a 500): refused or broken connections, timeouts, a full pool."""
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _in_savepoint(connection: Connection, work: Callable[[Connection], T]) -> T:
    with connection.begin_nested():
        return work(connection)


class Database:
    """Both engines and their session factories. Creating it opens no connection."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        url = sync_url(settings.url)
        self.is_sqlite = url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": settings.echo, "pool_pre_ping": not self.is_sqlite}
        async_kwargs = dict(kwargs)
        if self.is_sqlite:
            _prepare_sqlite(url, settings)
        else:
            kwargs["pool_size"] = async_kwargs["pool_size"] = settings.pool_size
            kwargs["pool_timeout"] = async_kwargs["pool_timeout"] = settings.pool_timeout_seconds
            # Pools that hold a checkout in all (a free connection, its pre-ping, connecting
            # anew) to pool_timeout, and to what is left of ``deadline()``'s block.
            kwargs["poolclass"] = DeadlineQueuePool
            async_kwargs["poolclass"] = DeadlineAsyncQueuePool
            kwargs["connect_args"] = postgres_deadlines(settings)
            async_kwargs["connect_args"] = {
                **postgres_deadlines(settings),
                **async_connect_args(settings.client_timeout_seconds),
            }
        self.engine: Engine = create_engine(url, **kwargs)
        self.async_engine: AsyncEngine = create_async_engine(
            async_url(settings.url), **async_kwargs
        )
        if not self.is_sqlite:
            connect_with_deadline(self.engine, settings.client_timeout_seconds)
        else:
            _install_sqlite_hooks(self.engine, settings.busy_timeout_ms)
            _install_sqlite_hooks(self.async_engine.sync_engine, settings.busy_timeout_ms)

        self._sqlite_units: dict[bool, ThreadPoolExecutor] = {}
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._async_write_engine = self.async_engine.execution_options(**{_WRITE_OPTION: True})
        self._async_autocommit_engine = self.async_engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)
        self._async_read_sessions = async_sessionmaker(self.async_engine, expire_on_commit=False)
        self._async_write_sessions = async_sessionmaker(
            self._async_write_engine, expire_on_commit=False
        )

    def deadline(self) -> AbstractContextManager[None]:
        """A block whose waits on the database, all together, end within
        ``client_timeout_seconds``: the wait for a pooled connection, its pre-ping,
        connecting, every statement, the reset. A request holds one around all its work, so a
        frozen server costs it at most that, however many waits the work takes (on SQLite,
        the busy timeout is the only wait and bounds itself)."""
        return within(self.settings.client_timeout_seconds)

    def session(self, *, write: bool) -> Session:
        sandbox = current_sandbox()
        if sandbox is not None:  # a shadowed write's turn: its transaction is rolled back
            connection = sandbox.connection(self._write_engine)
            return self._write_sessions(bind=connection, **SAVEPOINTS)
        return (self._write_sessions if write else self._read_sessions)()

    def async_session(self, *, write: bool) -> AsyncSession:
        return (self._async_write_sessions if write else self._async_read_sessions)()

    async def request_session(self, *, write: bool) -> AsyncSession:
        """A request's session: ``async_session``, or in a shadowed write's turn one on the
        sandbox's connection, whose commits only release a savepoint."""
        sandbox = current_sandbox()
        if sandbox is None:
            return self.async_session(write=write)
        connection = await sandbox.async_connection(self._async_write_engine)
        return self._async_write_sessions(bind=connection, **SAVEPOINTS)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session that commits on success and rolls back on any error, its waits
        within ``deadline()``."""
        with self.deadline(), self.session(write=True) as session, session.begin():
            yield session

    @asynccontextmanager
    async def async_transaction(self) -> AsyncIterator[AsyncSession]:
        with self.deadline():
            async with await self.request_session(write=True) as session, session.begin():
                yield session

    async def run(self, work: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``work`` in one transaction on a connection, committed if it returns.

        This is how v2's hot paths reach the database: one unit of work, whatever its number
        of statements. On SQLite it runs in one worker thread on the sync engine: aiosqlite
        moves every statement to its own thread and back (about 2 ms each, measured), pysqlite
        runs the whole unit in a fraction of that. Elsewhere it runs on the async engine's
        connection through ``run_sync``: no thread at all, every wait still async, and all of
        them within ``deadline()``.
        """
        sandbox = current_sandbox()
        if sandbox is not None:
            # A shadowed write's turn: every unit on the sandbox's one connection to the
            # database (on SQLite, a second would wait for the first's write lock), in a
            # savepoint. On SQLite that is pysqlite's, for the reason above, unless the
            # route's session already opened aiosqlite's.
            if self.is_sqlite and not sandbox.holds_async(self.async_engine.url):
                return await sandbox.run(self._write_engine, work)
            connection = await sandbox.async_connection(self._async_write_engine)
            return await connection.run_sync(_in_savepoint, work)
        if self.is_sqlite:
            loop = asyncio.get_running_loop()
            units = self._units(write)
            return await loop.run_in_executor(units, self._run_in_thread, work, write)
        with self.deadline():
            if not write:
                # In READ COMMITTED (the default) every statement of a transaction sees its
                # own snapshot anyway: reading in autocommit loses nothing and saves the
                # BEGIN and COMMIT round trips.
                async with self._async_autocommit_engine.connect() as conn:
                    return await conn.run_sync(work)
            async with self._async_write_engine.begin() as conn:
                return await conn.run_sync(work)

    def _units(self, write: bool) -> ThreadPoolExecutor:
        # A plain executor hands work to a thread faster than anyio's (60 vs 87 us, measured);
        # a few threads suffice: Python runs one thread at a time.
        if write not in self._sqlite_units:
            self._sqlite_units[write] = ThreadPoolExecutor(
                max_workers=SQLITE_WRITE_THREADS if write else SQLITE_READ_THREADS,
                thread_name_prefix="sqlite-write" if write else "sqlite-read",
            )
        return self._sqlite_units[write]

    def _stop_units(self) -> None:
        units, self._sqlite_units = self._sqlite_units, {}
        for executor in units.values():
            executor.shutdown(wait=True)

    def _run_in_thread(self, work: Callable[[Connection], T], write: bool) -> T:
        with (self._write_engine if write else self.engine).begin() as conn:
            return work(conn)

    async def ping(self) -> bool:
        # Bounded by ``within``, not by cancelling at a timeout: a psycopg query cancelled in
        # flight asks the server to cancel it and waits for that, up to 10 s more on a
        # server that does not answer (measured).
        try:
            with within(PING_TIMEOUT_SECONDS):
                async with self.async_engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        self._stop_units()
        self.engine.dispose()

    async def dispose_async(self) -> None:
        await self.async_engine.dispose()
        self._stop_units()
        self.engine.dispose()
