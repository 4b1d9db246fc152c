"""The Database in a shadowed write's turn: every unit of work in the sandbox, rolled back.

Through the real engines on the suite's database (SQLite, and PostgreSQL in its pass); what
is left behind is read on connections of the test's own, after the sandbox closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from gateway.bridges.sandbox import SandboxConflict, sandboxed
from gateway.shadow.write_sets import recording
from shared.db import Database
from shared.models import Tag

pytestmark = pytest.mark.database


def _tags(connection: Connection) -> list[str]:
    return list(connection.scalars(select(Tag.name).order_by(Tag.name)))


def _plant(name: str) -> Any:
    def work(connection: Connection) -> list[str]:
        connection.execute(insert(Tag).values(name=name))
        return _tags(connection)

    return work


def _tags_left(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return _tags(connection)


def test_units_of_work_see_each_other_and_are_all_rolled_back(database: Database) -> None:
    async def turn() -> tuple[list[str], list[str], int]:
        async with sandboxed() as sandbox:
            with recording() as written:
                first = await database.run(_plant("first"), write=True)
                second = await database.run(_plant("second"), write=True)
            assert sandbox.escapes == []
        return first, second, len(written.rows)

    first, second, rows = asyncio.run(turn())

    assert first == ["first"]
    assert second == ["first", "second"]  # one transaction: the second unit sees the first
    assert rows == 2  # the write set was recorded from the unit's thread, in the turn's context
    assert _tags_left(database) == []


def test_a_failing_unit_rolls_back_only_its_own_savepoint(database: Database) -> None:
    def fail(connection: Connection) -> None:
        connection.execute(insert(Tag).values(name="lost"))
        raise RuntimeError("boom")

    async def turn() -> list[str]:
        async with sandboxed():
            await database.run(_plant("kept"), write=True)
            with pytest.raises(RuntimeError, match="boom"):
                await database.run(fail, write=True)
            return await database.run(_tags, write=False)

    assert asyncio.run(turn()) == ["kept"]
    assert _tags_left(database) == []


def test_a_unit_after_the_session_shares_its_connection(database: Database) -> None:
    async def turn() -> list[str]:
        async with sandboxed(), await database.request_session(write=True) as session:
            session.add(Tag(name="from-session"))
            await session.flush()
            return await database.run(_plant("from-unit"), write=True)

    assert asyncio.run(turn()) == ["from-session", "from-unit"]
    assert _tags_left(database) == []


def test_a_session_after_a_unit_on_sqlite_is_refused_clearly(database: Database) -> None:
    if not database.is_sqlite:
        pytest.skip("one connection per driver waits for the other's lock only on SQLite")

    async def turn() -> None:
        async with sandboxed():
            await database.run(_plant("first"), write=True)
            await database.request_session(write=True)

    # Not a wait of busy_timeout on a lock the turn itself holds, then "database is locked".
    with pytest.raises(SandboxConflict, match="already holds SQLite's write lock"):
        asyncio.run(turn())
    assert _tags_left(database) == []


def test_concurrent_turns_each_see_only_their_own_writes(database: Database) -> None:
    async def turn(name: str) -> list[str]:
        async with sandboxed():
            return await database.run(_plant(name), write=True)

    async def both() -> list[list[str]]:
        return list(await asyncio.gather(turn("one"), turn("two")))

    assert asyncio.run(both()) == [["one"], ["two"]]
    assert _tags_left(database) == []
