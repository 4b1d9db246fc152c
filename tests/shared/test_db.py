"""The Database: URL mapping, SQLite pragmas, write transactions from both sides, ping."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from gateway.records.drivers import async_url, sync_url
from shared.db import Database
from shared.models import User
from shared.settings import DatabaseSettings

SYNC_WRITERS = 6
ASYNC_WRITERS = 6
ROUNDS = 10
# Time a transaction spends between its read and its write, to make writers interleave.
PAUSE = 0.003


def _user(name: str) -> User:
    return User(username=name, email=f"{name}@example.com", password_hash="x")


def _count_users(database: Database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def _sqlite_only(database: Database) -> None:
    if not database.is_sqlite:
        pytest.skip("SQLite-specific")


# -- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "sync_driver", "async_driver"),
    [
        ("sqlite:///var/conduit.db", "sqlite+pysqlite", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///var/conduit.db", "sqlite+pysqlite", "sqlite+aiosqlite"),
        ("postgresql://app:pw@db:5432/conduit", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgres://app:pw@db:5432/conduit", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgresql+psycopg2://app:pw@db/conduit", "postgresql+psycopg", "postgresql+psycopg"),
    ],
)
def test_urls_get_the_drivers_each_side_needs(
    url: str, sync_driver: str, async_driver: str
) -> None:
    sync, async_ = sync_url(url), async_url(url)

    assert sync.drivername == sync_driver
    assert async_.drivername == async_driver
    for mapped in (sync, async_):
        assert mapped.database in ("var/conduit.db", "conduit")
        assert mapped.password in (None, "pw")


def test_postgres_url_keeps_host_port_and_credentials() -> None:
    url = sync_url("postgres://app:pw@db.internal:6543/conduit?sslmode=require")

    assert (url.username, url.password, url.host, url.port, url.database) == (
        "app",
        "pw",
        "db.internal",
        6543,
        "conduit",
    )
    assert url.query == {"sslmode": "require"}


@pytest.mark.parametrize("url", ["mysql://app@db/conduit", "oracle://app@db/conduit"])
def test_unsupported_database_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        sync_url(url)
    with pytest.raises(ValueError, match="unsupported database"):
        async_url(url)
    with pytest.raises(ValueError, match="unsupported database"):
        Database(DatabaseSettings(url=url))


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://"])
def test_in_memory_sqlite_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        Database(DatabaseSettings(url=url))


# -- SQLite connection setup --------------------------------------------------------------


def test_sync_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(
    database: Database,
) -> None:
    _sqlite_only(database)

    with database.engine.connect() as conn:
        journal_mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        busy_timeout = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()

    assert journal_mode == "wal"
    assert foreign_keys == 1
    assert busy_timeout == database.settings.busy_timeout_ms > 0


def test_async_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(
    database: Database,
) -> None:
    _sqlite_only(database)

    async def pragmas() -> tuple[Any, Any, Any]:
        async with database.async_engine.connect() as conn:
            return (
                (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar(),
                (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar(),
                (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar(),
            )

    assert asyncio.run(pragmas()) == ("wal", 1, database.settings.busy_timeout_ms)


# -- transactions -------------------------------------------------------------------------


def test_transaction_commits(database: Database) -> None:
    with database.transaction() as session:
        session.add(_user("committed"))

    assert _count_users(database) == 1


def test_failing_transaction_rolls_back(database: Database) -> None:
    inside: list[int] = []

    def fail() -> None:
        with database.transaction() as session:
            session.add(_user("rolled-back"))
            session.flush()  # the row reached the database inside the transaction
            inside.append(session.scalar(select(func.count()).select_from(User)) or 0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail()

    assert inside == [1]
    assert _count_users(database) == 0


def test_failing_async_transaction_rolls_back(database: Database) -> None:
    async def fail() -> None:
        async with database.async_transaction() as session:
            session.add(_user("rolled-back"))
            await session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(fail())

    assert _count_users(database) == 0


def test_writes_from_one_side_are_seen_by_the_other(database: Database) -> None:
    async def write_then_read(name: str) -> int:
        async with database.async_transaction() as session:
            session.add(_user(name))
        async with database.async_session(write=False) as session:
            return await session.scalar(select(func.count()).select_from(User)) or 0

    with database.transaction() as session:
        session.add(_user("from-sync"))

    assert asyncio.run(write_then_read("from-async")) == 2
    assert _count_users(database) == 2


def test_concurrent_read_then_write_transactions_from_both_sides(database: Database) -> None:
    """Sync threads and asyncio tasks all read, pause, then write, at the same time.

    In SQLite a deferred transaction that reads and then writes fails at once with
    "database is locked" when another writer committed after its read (see the next test);
    the busy timeout cannot help there. Write transactions start with BEGIN IMMEDIATE, so
    they queue on the lock instead and every one of these writes succeeds.
    """
    errors: list[BaseException] = []
    seen_counts: list[int] = []
    start = threading.Barrier(SYNC_WRITERS + 1)

    def sync_writer(n: int) -> None:
        try:
            start.wait()
            for i in range(ROUNDS):
                with database.transaction() as session:
                    count = session.scalar(select(func.count()).select_from(User)) or 0
                    time.sleep(PAUSE)
                    session.add(_user(f"sync-{n}-{i}"))
                seen_counts.append(count)
        except BaseException as exc:
            errors.append(exc)

    async def async_writer(n: int) -> None:
        for i in range(ROUNDS):
            async with database.async_transaction() as session:
                count = await session.scalar(select(func.count()).select_from(User)) or 0
                await asyncio.sleep(PAUSE)
                session.add(_user(f"async-{n}-{i}"))
            seen_counts.append(count)

    async def async_writers() -> None:
        await asyncio.gather(*(async_writer(n) for n in range(ASYNC_WRITERS)))

    def event_loop_thread() -> None:
        try:
            start.wait()
            asyncio.run(async_writers())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sync_writer, args=(n,)) for n in range(SYNC_WRITERS)]
    threads.append(threading.Thread(target=event_loop_thread))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    writes = (SYNC_WRITERS + ASYNC_WRITERS) * ROUNDS
    assert _count_users(database) == writes
    if database.is_sqlite:
        # Write transactions ran one at a time, each seeing all the writes before it.
        assert sorted(seen_counts) == list(range(writes))


def test_deferred_read_then_write_fails_when_another_writer_commits_between(
    database: Database,
) -> None:
    """Why write transactions need BEGIN IMMEDIATE: the failure it prevents, on purpose.

    A read session starts with a plain (deferred) BEGIN; after its read it holds a snapshot,
    and once another connection commits, upgrading to a writer is impossible. SQLite reports
    "database is locked" straight away, without waiting for the busy timeout.
    """
    _sqlite_only(database)

    with database.session(write=False) as stale:
        stale.scalar(select(func.count()).select_from(User))
        with database.transaction() as other:
            other.add(_user("other"))
        stale.add(_user("stale"))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            stale.flush()
        assert time.monotonic() - started < database.settings.busy_timeout_ms / 1000 / 2
        stale.rollback()

    assert _count_users(database) == 1


def test_write_transaction_takes_the_write_lock_at_its_first_statement(
    database: Database,
) -> None:
    """BEGIN IMMEDIATE: a write transaction that has only read already excludes writers."""
    _sqlite_only(database)
    impatient = Database(database.settings.model_copy(update={"busy_timeout_ms": 50}))
    try:
        with database.transaction() as session:
            session.scalar(select(func.count()).select_from(User))
            with pytest.raises(OperationalError, match="database is locked"):  # noqa: SIM117
                with impatient.transaction() as other:
                    other.scalar(select(func.count()).select_from(User))
            # Readers are not blocked (WAL) and see the last committed state.
            assert _count_users(impatient) == 0
            session.add(_user("holder"))
    finally:
        impatient.dispose()

    assert _count_users(database) == 1


# -- ping ---------------------------------------------------------------------------------


def test_ping_reaches_the_real_database(database: Database) -> None:
    assert asyncio.run(database.ping()) is True


def test_ping_is_false_when_the_server_is_unreachable() -> None:
    # Loopback, a closed port (discard): refused at once, nothing leaves the machine.
    unreachable = Database(DatabaseSettings(url="postgresql://u:p@127.0.0.1:9/x"))

    async def ping_then_dispose() -> bool:
        try:
            return await unreachable.ping()
        finally:
            await unreachable.dispose_async()

    assert asyncio.run(ping_then_dispose()) is False


def test_creating_a_database_opens_no_connection(tmp_path: Any) -> None:
    path = tmp_path / "nested" / "lazy.db"

    lazy = Database(DatabaseSettings(url=f"sqlite:///{path}"))

    assert path.parent.is_dir()  # the directory is made ready for the file
    assert not path.exists()
    lazy.dispose()
