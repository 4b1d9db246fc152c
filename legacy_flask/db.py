"""One SQLAlchemy session per request; safe methods read, the others take the write lock."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from shared.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database() -> Database:
    database: Database = current_app.extensions["conduit"]["database"]
    return database


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = get_database().session(write=request.method not in SAFE_METHODS)
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        # Anything a view did not commit explicitly is rolled back: no half-written state.
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
