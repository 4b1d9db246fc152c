"""psycopg connections that never wait on PostgreSQL past a deadline.

``statement_timeout`` is the server's own limit: a server that is frozen (stopped, swapped
out, cut off behind a firewall that still accepts packets) never applies it, and libpq then
waits for an answer forever, holding a Flask thread or a v2 request with it. psycopg can
bound its waits (``Connection.wait(..., timeout=)``) but queries do not ask it to; these
connections do, for every operation. Past the deadline the connection is closed, so the
pool discards it, and the error is an ``OperationalError``: a 503 for the client.
"""

from __future__ import annotations

from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen

RV = TypeVar("RV")


def _expired(connection: psycopg.BaseConnection[Any], deadline: float) -> psycopg.OperationalError:
    connection.pgconn.finish()  # unknown state: nobody may reuse it
    return psycopg.OperationalError(f"no answer from PostgreSQL within {deadline:g} s")


class DeadlineConnection(psycopg.Connection[Any]):
    deadline: float = 20.0

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        try:
            return super().wait(gen, interval, self.deadline if timeout is None else timeout)
        except psycopg.errors._WaitTimeout as exc:  # psycopg's own signal
            raise _expired(self, self.deadline) from exc


class DeadlineAsyncConnection(psycopg.AsyncConnection[Any]):
    deadline: float = 20.0

    # psycopg's own signature, overridden: its timeout parameter is not ours to rename.
    async def wait(
        self,
        gen: PQGen[RV],
        interval: float = 0.1,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> RV:
        try:
            return await super().wait(gen, interval, self.deadline if timeout is None else timeout)
        except psycopg.errors._WaitTimeout as exc:
            raise _expired(self, self.deadline) from exc


def with_deadline(base: type[Any], seconds: float) -> type[Any]:
    """A connection class of ``base`` whose every wait ends within ``seconds``."""
    return type(base.__name__, (base,), {"deadline": seconds})
