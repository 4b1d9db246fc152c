"""One SQLAlchemy session per request; safe methods read, the others take the write lock.

The request's waits on the database, from its first use of the session to its close, all end
within one deadline (``Database.deadline``): a frozen server cannot hold a Flask thread past
it, however many waits (a pooled connection, its pre-ping, a reconnect, each statement) the
request makes.
"""

from __future__ import annotations

from contextlib import ExitStack

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from shared.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database() -> Database:
    database: Database = current_app.extensions["conduit"]["database"]
    return database


def get_session() -> Session:
    if "db_session" not in g:
        database = get_database()
        # Entered here and left at teardown, after the session's close (its reset waits too):
        # both run in the request's context, which the deadline lives in.
        g.db_deadline = ExitStack()
        g.db_deadline.enter_context(database.deadline())
        g.db_session = database.session(write=request.method not in SAFE_METHODS)
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    deadline: ExitStack | None = g.pop("db_deadline", None)
    try:
        if session is not None:
            # Anything a view did not commit explicitly is rolled back: no half-written state.
            session.close()
    finally:
        if deadline is not None:
            deadline.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
