"""Waits on PostgreSQL that end at a deadline, even when the server never answers.

``statement_timeout`` is the server's own limit: a server that is frozen (stopped, swapped
out, cut off behind a firewall that still accepts packets) never applies it, and libpq then
waits for an answer forever. psycopg can bound its waits (``Connection.wait(..., timeout=)``)
but queries do not ask it to; the connections here do, for every operation. Two bounds apply:

- a connection class's ``deadline`` bounds each of its waits (None: no bound of its own);
- inside ``within(seconds)``, all the waits of the block together end within ``seconds`` of
  entering it: the wait for a pooled connection (with the pools here), its pre-ping,
  connecting anew, every statement and the reset when the connection goes back. A request's
  whole wait on the database then has one deadline, however many waits it takes, where
  per-wait limits would add up (a pre-ping's, a reconnect's, each statement's). The pools
  here hold each checkout to such a block of their own, ``pool_timeout`` long.

Past either, the connection is closed (its state is unknown: the pool discards it) and the
error is psycopg's ``OperationalError``, or the pool's ``TimeoutError`` for a pooled
connection: both "the database is unavailable" to SQLAlchemy's callers. Nothing here imports
the rest of the gateway, so the applications it serves may use it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen, PQGenConn
from sqlalchemy import Engine, event
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection, QueuePool
from sqlalchemy.util import queue as sqla_queue

RV = TypeVar("RV")

# The monotonic time the current block's waits must end by; None outside any block. A
# context variable, so each request (a task, or a thread's copied context) has its own.
_until: ContextVar[float | None] = ContextVar("postgres_waits_until", default=None)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Every wait on PostgreSQL inside the block ends within ``seconds`` of entering it; an
    enclosing block that ends sooner still bounds it."""
    until = monotonic() + seconds
    outer = _until.get()
    token = _until.set(until if outer is None else min(outer, until))
    try:
        yield
    finally:
        _until.reset(token)


def left(seconds: float | None) -> float | None:
    """``seconds`` (None: unbounded), or what is left of the current block if that is less."""
    until = _until.get()
    if until is None:
        return seconds
    remaining = max(0.0, until - monotonic())
    return remaining if seconds is None else min(seconds, remaining)


def _expired(connection: psycopg.BaseConnection[Any]) -> psycopg.OperationalError:
    connection.pgconn.finish()  # unknown state: nobody may reuse it
    return psycopg.OperationalError("no answer from PostgreSQL within the deadline")


def _budget(
    connection: psycopg.BaseConnection[Any], gen: PQGen[Any], seconds: float | None
) -> float | None:
    """What a wait of ``seconds`` may take now; an expired connection if nothing is left."""
    budget = left(seconds)
    if budget is not None and budget <= 0:
        gen.close()
        raise _expired(connection)
    return budget


def _ending(gen: PQGenConn[RV], until: float) -> PQGenConn[RV]:
    """``gen``, stopped with psycopg's own wait timeout once ``until`` passes. psycopg's
    connect resumes the generator at least every 0.1 s, so this bounds a connection attempt
    to the block, which libpq's ``connect_timeout`` (whole seconds, at least 2) cannot."""
    ready: Any = None  # the first send starts the generator; psycopg never sends None
    try:
        while monotonic() < until:
            ready = yield gen.send(ready)
    except StopIteration as done:
        result: RV = done.value
        return result
    gen.close()
    raise psycopg.errors._WaitTimeout("the deadline passed while connecting")


class _Deadlines(psycopg.BaseConnection[Any]):
    """What both connection classes below share: a connection attempt ends with the block.
    Listed before psycopg's class, so ``super()`` is the sync or the async one's own."""

    deadline: float | None = None

    @classmethod
    def _connect_gen(cls, conninfo: str = "") -> PQGenConn[Any]:
        until = _until.get()
        gen = super()._connect_gen(conninfo)
        return gen if until is None else _ending(gen, until)


class DeadlineConnection(_Deadlines, psycopg.Connection[Any]):
    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        seconds = _budget(self, gen, self.deadline if timeout is None else timeout)
        try:
            return super().wait(gen, interval, seconds)
        except psycopg.errors._WaitTimeout as exc:  # psycopg's own signal
            raise _expired(self) from exc


class DeadlineAsyncConnection(_Deadlines, psycopg.AsyncConnection[Any]):
    # psycopg's own signature, overridden: its timeout parameter is not ours to rename.
    async def wait(
        self,
        gen: PQGen[RV],
        interval: float = 0.1,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> RV:
        seconds = _budget(self, gen, self.deadline if timeout is None else timeout)
        try:
            return await super().wait(gen, interval, seconds)
        except psycopg.errors._WaitTimeout as exc:
            raise _expired(self) from exc


def with_deadline(base: type[Any], seconds: float | None) -> type[Any]:
    """A connection class of ``base`` whose every wait ends within ``seconds``."""
    return type(base.__name__, (base,), {"deadline": seconds})


def connect_with_deadline(engine: Engine, seconds: float | None) -> None:
    """Give a sync psycopg ``engine`` ``DeadlineConnection``s (each wait within ``seconds``).
    The hook, not ``creator``, so the URL's and ``connect_args``' parameters still apply."""
    connection = with_deadline(DeadlineConnection, seconds)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return connection.connect(*cargs, **cparams)


def async_connect_args(seconds: float | None) -> dict[str, Any]:
    """The ``connect_args`` that give an async psycopg engine ``DeadlineAsyncConnection``s."""
    return {"async_creator_fn": with_deadline(DeadlineAsyncConnection, seconds).connect}


class _Queue(sqla_queue.Queue[Any]):
    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        return super().get(block, left(timeout))


class _AsyncQueue(sqla_queue.AsyncAdaptedQueue[Any]):
    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        return super().get(block, left(timeout))


class DeadlineQueuePool(QueuePool):
    """SQLAlchemy's pool, where ``pool_timeout`` bounds handing out a connection in all:
    waiting for a free one, its pre-ping, connecting anew when the ping fails. A pooled
    connection to a frozen server then costs a checkout what a new one does, not a ping's
    whole wait and then a connection attempt. An enclosing ``within`` block still bounds it.
    """

    _queue_class = _Queue

    def connect(self) -> PoolProxiedConnection:
        with within(self._timeout):
            return super().connect()


class DeadlineAsyncQueuePool(AsyncAdaptedQueuePool):
    """The async engine's pool, bounded the same way (its checkout runs in SQLAlchemy's
    greenlet, which shares the awaiting task's context, so the block reaches psycopg)."""

    _queue_class = _AsyncQueue

    def connect(self) -> PoolProxiedConnection:
        with within(self._timeout):
            return super().connect()
