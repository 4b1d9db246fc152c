"""The transaction a shadowed write runs in: one per database, and always rolled back.

While a module's write is shadowed (``shadow_writes``), the gateway runs v2 first inside
``sandboxed()``. The sessions the gateway's bridges give are then bound to the sandbox's
connection for their database, in join mode ``create_savepoint``: a route's own
``commit()`` only releases a savepoint, and the outer transaction is rolled back when the
turn ends, whatever happened in it. An application's own session factory adopts the same
hook with ``current_sandbox()`` (the Conduit example's ``shared.db`` does)::

    sandbox = current_sandbox()
    if sandbox is not None:
        connection = await sandbox.async_connection(engine)
        return AsyncSession(bind=connection, **SAVEPOINTS)

What v2 could do around the sandbox is watched, not trusted: a commit on any connection the
sandbox did not open, and a socket opened by code that runs in the turn (an e-mail, an HTTP
call), are noted in ``escapes`` and reported with the comparison.

A sandbox holds its connections, and whatever locks v2's statements took, until the turn
ends: on SQLite that is the database's single write lock, which every other writer waits for
meanwhile (up to its busy timeout).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")

# How a session joins the sandbox's transaction: its commits and rollbacks are a savepoint's.
SAVEPOINTS: dict[str, Any] = {"join_transaction_mode": "create_savepoint"}

# pysqlite's default (legacy) transaction handling begins a transaction only before a DML
# statement, so a route's first SAVEPOINT would be the outermost one and its RELEASE would
# commit. A savepoint of the sandbox's own starts the transaction whatever the engine's
# handling (inside an engine's own BEGIN it is merely nested); closing rolls it all back.
_SQLITE_OUTER = "SAVEPOINT gateway_sandbox"

# Each turn has a thread of its own (see ``Sandbox.run``); up to this many are kept between
# turns rather than started anew for each.
IDLE_THREADS_KEPT = 8
_IDLE_THREADS: list[ThreadPoolExecutor] = []
# A forked child has none of its parent's threads.
os.register_at_fork(after_in_child=_IDLE_THREADS.clear)

_current: ContextVar[Sandbox | None] = ContextVar("gateway_sandbox", default=None)
_watching = False  # the commit listener and the audit hook are installed once, when needed


class SandboxClosed(RuntimeError):
    """Work of the turn (a task it started) asked for the database after the turn ended."""


class SandboxConflict(RuntimeError):
    """The turn asked for a second connection to a SQLite database the sandbox already holds
    (its write lock) through the other driver: the second would wait for the first."""


class Sandbox:
    def __init__(self) -> None:
        self.escapes: list[str] = []
        self._sync: dict[Any, Connection] = {}  # by pool: engines with options share one
        self._async: dict[Any, AsyncConnection] = {}
        self._own: set[int] = set()  # ids of the Connection objects opened here
        self._opening = False
        self._thread: ThreadPoolExecutor | None = None  # see ``run``
        self.closed = False

    def connection(self, engine: Engine) -> Connection:
        """The sandbox's connection to ``engine``'s database, in its outer transaction."""
        self._check_open()
        connection = self._sync.get(engine.pool)
        if connection is None:
            self._refuse_second_sqlite(engine.url, self._async.values())
            self._opening = True  # a driver connecting in Python is the sandbox, not v2
            try:
                connection = engine.connect()
                connection.begin()
                if connection.dialect.name == "sqlite":
                    connection.exec_driver_sql(_SQLITE_OUTER)
            finally:
                self._opening = False
            self._sync[engine.pool] = connection
            self._own.add(id(connection))
        return connection

    async def async_connection(self, engine: AsyncEngine) -> AsyncConnection:
        self._check_open()
        pool = engine.sync_engine.pool
        connection = self._async.get(pool)
        if connection is None:
            self._refuse_second_sqlite(engine.url, self._sync.values())
            self._opening = True
            try:
                connection = await engine.connect()
                await connection.begin()
                if connection.dialect.name == "sqlite":
                    await connection.exec_driver_sql(_SQLITE_OUTER)
            finally:
                self._opening = False
            self._async[pool] = connection
            self._own.add(id(connection.sync_connection))
        return connection

    def holds_async(self, url: URL) -> bool:
        """Whether the turn already reached the database at ``url`` through an async driver."""
        return _same_sqlite_file(url, self._async.values())

    async def run(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        """Run ``work`` on the sandbox's sync connection to ``engine``, in a savepoint, in a
        thread of the sandbox's own, with the caller's context (its write set, its sandbox).

        One thread hop for the whole unit of work, where aiosqlite's connection takes two per
        statement (a favourite's turn: 6-9 ms on the async connection, measured). The thread
        is the sandbox's alone: in a thread shared with other work, a turn's next unit could
        queue behind a writer waiting for the lock the turn holds.
        """
        self._check_open()
        if self._thread is None:
            self._thread = _IDLE_THREADS.pop() if _IDLE_THREADS else _new_thread()
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, context.run, self._run, engine, work)

    def _run(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        with self.connection(engine).begin_nested() as savepoint:
            return work(savepoint.connection)

    def _refuse_second_sqlite(self, url: URL, held: Iterable[Connection | AsyncConnection]) -> None:
        if _same_sqlite_file(url, held):
            raise SandboxConflict(
                f"this turn already holds SQLite's write lock on {url.database} through the"
                " other driver: a route's units of work need one driver in a shadowed write"
            )

    def owns(self, connection: Connection) -> bool:
        return id(connection) in self._own

    def _check_open(self) -> None:
        if self.closed:
            raise SandboxClosed("the shadowed write's turn has ended: its sandbox is closed")

    async def close(self) -> None:
        """Roll back and close every connection (closing a connection rolls it back)."""
        self.closed = True
        sync, self._sync = self._sync, {}
        asynchronous, self._async = self._async, {}
        thread, self._thread = self._thread, None
        for connection in asynchronous.values():
            await connection.close()
        # SQLite rolls back in its own file at once: closed here, the write lock goes without
        # waiting for a thread's turn at the interpreter. A server's rollback is a round trip.
        remote = [c.close for c in sync.values() if c.dialect.name != "sqlite"]
        _call_all([c.close for c in sync.values() if c.dialect.name == "sqlite"])
        if remote:
            await asyncio.get_running_loop().run_in_executor(thread, _call_all, remote)
        if thread is not None:
            _release(thread)


def _same_sqlite_file(url: URL, held: Iterable[Connection | AsyncConnection]) -> bool:
    return url.get_backend_name() == "sqlite" and any(
        connection.engine.url.database == url.database for connection in held
    )


def _new_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox")


def _release(thread: ThreadPoolExecutor) -> None:
    if len(_IDLE_THREADS) < IDLE_THREADS_KEPT:
        _IDLE_THREADS.append(thread)
    else:
        thread.shutdown(wait=False)


def _call_all(calls: list[Callable[[], None]]) -> None:
    for call in calls:
        call()


def current_sandbox() -> Sandbox | None:
    """The sandbox of the shadowed write this code runs in, if any."""
    return _current.get()


@asynccontextmanager
async def sandboxed() -> AsyncIterator[Sandbox]:
    """A sandbox for the code run in this block (and in the tasks and threads it starts)."""
    _watch()
    sandbox = Sandbox()
    token = _current.set(sandbox)
    try:
        yield sandbox
    finally:
        _current.reset(token)
        await sandbox.close()


def _watch() -> None:
    global _watching
    if _watching:
        return
    _watching = True
    event.listen(Engine, "commit", _committed)  # every engine's connections, from now on
    sys.addaudithook(_audited)


def _committed(connection: Connection) -> None:
    sandbox = _current.get()
    if sandbox is not None and not sandbox.owns(connection):
        url = connection.engine.url.render_as_string(hide_password=True)
        sandbox.escapes.append(f"committed on a connection of its own ({url})")


def _audited(name: str, args: tuple[Any, ...]) -> None:
    # Called for every audited event of the process: the name is compared first.
    if name != "socket.connect":
        return
    sandbox = _current.get()
    if sandbox is not None and not sandbox._opening:
        sandbox.escapes.append(f"connected to {args[1]!r}")
