"""Flask-SQLAlchemy's database and ``db.Model`` classes in FastAPI routes, sync or async.

The legacy app's engines (one per bind key) and its model classes are used as they are,
outside any Flask app context: sync sessions run on Flask-SQLAlchemy's own engines (the same
pools as the Flask views), async sessions on async engines this bridge opens on the same URLs.

    notes_db = FlaskSQLAlchemyBridge(legacy_app)
    SessionDep = Annotated[AsyncSession, Depends(notes_db.async_session)]
    SyncSessionDep = Annotated[Session, Depends(notes_db.session)]

    @router.post("/notes")
    async def add_note(body: NoteIn, session: SessionDep) -> NoteOut:
        note = Note(body=body.text)  # a legacy `db.Model`
        session.add(note)
        await session.commit()  # nothing is written unless the route commits
        return NoteOut(id=note.id)

    # on shutdown, in the lifespan of the app that uses the bridge:
    await notes_db.dispose()

Each session is closed when the request is done, which rolls back whatever the route did not
commit: a connection never goes back to the pool inside a transaction. With FastAPI's default
dependency scope that happens after the response is sent; ``Depends(..., scope="function")``
closes it as soon as the route returns. Sessions use ``expire_on_commit=False`` so objects stay
readable after the commit, while the response is built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Engine, MetaData, Table
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from gateway.bridges.sandbox import SAVEPOINTS, current_sandbox
from gateway.records import drivers


def async_url(url: URL) -> URL:
    """The same database as ``url``, through an async driver.

    ``sqlite:////srv/app.db`` gives ``sqlite+aiosqlite:////srv/app.db``, and
    ``postgresql+psycopg2://u:pw@db/app`` gives ``postgresql+psycopg://u:pw@db/app``.
    """
    return drivers.async_url(drivers.on_disk(url))


def _table_count(metadatas: Mapping[str | None, MetaData]) -> int:
    return sum(len(metadata.tables) for metadata in metadatas.values())


@dataclass(frozen=True)
class _Factories:
    tables: int  # how many tables the binds cover
    sync: sessionmaker[Session]
    async_: async_sessionmaker[AsyncSession]
    keys: dict[Table, str | None]  # each table's bind key


class FlaskSQLAlchemyBridge:
    """Sessions on a Flask-SQLAlchemy database for FastAPI dependencies.

    ``db`` defaults to the app's ``SQLAlchemy`` extension. ``async_engine_options`` go to
    every async engine (pool size, ``pool_pre_ping``...); the sync engines keep the options
    the Flask app configured. Creating the bridge opens no connection.
    """

    def __init__(
        self,
        app: Flask,
        db: SQLAlchemy | None = None,
        *,
        async_engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.db: SQLAlchemy = db if db is not None else app.extensions["sqlalchemy"]
        # Flask-SQLAlchemy resolved the URLs (relative SQLite paths are in the instance
        # folder) and built the engines when the app was set up; reuse them as they are.
        with app.app_context():
            self.engines: dict[str | None, Engine] = dict(self.db.engines)
        options = dict(async_engine_options or {})
        self.async_engines: dict[str | None, AsyncEngine] = {
            key: create_async_engine(async_url(engine.url), **{"echo": engine.echo, **options})
            for key, engine in self.engines.items()
        }
        self._factories = self._make_factories()

    def _make_factories(self) -> _Factories:
        """Session factories sending each table to its bind key's engine, as Flask-SQLAlchemy's
        own session does (``db.metadatas[key]`` holds the tables of models with that
        ``__bind_key__``); anything else goes to the default engine.
        """
        metadatas = self.db.metadatas
        keys: dict[Table, str | None] = {}
        for key, metadata in metadatas.items():
            if key not in self.engines:
                names = ", ".join(sorted(metadata.tables))
                raise ValueError(f"bind key {key!r} of {names} is not in SQLALCHEMY_BINDS")
            keys.update(dict.fromkeys(metadata.tables.values(), key))
        return _Factories(
            tables=_table_count(metadatas),
            sync=sessionmaker(
                bind=self.engines.get(None),
                binds={table: self.engines[key] for table, key in keys.items()},
                expire_on_commit=False,
            ),
            async_=async_sessionmaker(
                bind=self.async_engines.get(None),
                binds={table: self.async_engines[key] for table, key in keys.items()},
                expire_on_commit=False,
            ),
            keys=keys,
        )

    def _current_factories(self) -> _Factories:
        factories = self._factories
        # A model declared after the bridge was made must not fall through to the default
        # engine: rebuild (and swap in whole, so concurrent requests never see half of it).
        if factories.tables != _table_count(self.db.metadatas):
            factories = self._factories = self._make_factories()
        return factories

    def session(self) -> Iterator[Session]:
        """A sync session for the request (a dependency for ``def`` routes)."""
        # Closing rolls back what was not committed and returns the connection to the pool.
        factories = self._current_factories()
        sandbox = current_sandbox()
        if sandbox is None:
            with factories.sync() as session:
                yield session
            return
        # A shadowed write's turn: each bind on the sandbox's connection, committing to a
        # savepoint of a transaction that is rolled back.
        connections = {key: sandbox.connection(engine) for key, engine in self.engines.items()}
        binds = {table: connections[key] for table, key in factories.keys.items()}
        with factories.sync(bind=connections.get(None), binds=binds, **SAVEPOINTS) as session:
            yield session

    async def async_session(self) -> AsyncIterator[AsyncSession]:
        """An async session for the request (a dependency for ``async def`` routes)."""
        factories = self._current_factories()
        sandbox = current_sandbox()
        if sandbox is None:
            async with factories.async_() as session:
                yield session
            return
        connections = {
            key: await sandbox.async_connection(engine)
            for key, engine in self.async_engines.items()
        }
        binds = {table: connections[key] for table, key in factories.keys.items()}
        sandboxed = factories.async_(bind=connections.get(None), binds=binds, **SAVEPOINTS)
        async with sandboxed as session:
            yield session

    async def dispose(self) -> None:
        """Close the async engines' pooled connections; the Flask app owns the sync engines."""
        for engine in self.async_engines.values():
            await engine.dispose()


def join_sandbox(app: Flask, db: SQLAlchemy | None = None) -> None:
    """Make ``db.session`` join the current sandbox in ``app``'s requests: in a sandbox's
    turn (``gateway parity check`` sends the legacy app its writes in one), the request's
    session is bound to the sandbox's connections and commits to a savepoint. Outside a
    sandbox nothing changes. Installed once per app."""
    db = db if db is not None else app.extensions["sqlalchemy"]
    if app.extensions.get(_JOINED):
        return
    app.extensions[_JOINED] = True
    with app.app_context():
        engines = dict(db.engines)

    def join() -> None:
        sandbox = current_sandbox()
        if sandbox is None:
            return
        connections = {key: sandbox.connection(engine) for key, engine in engines.items()}
        binds: dict[Any, Connection] = {
            table: connections[key]
            for key, metadata in db.metadatas.items()
            for table in metadata.tables.values()
        }
        # Flask-SQLAlchemy's teardown removes (and so closes) it like its own.
        joined = _SandboxedSession(db, bind=connections.get(None), binds=binds, **SAVEPOINTS)
        db.session.registry.set(joined)

    app.before_request_funcs.setdefault(None, []).insert(0, join)


# The app.extensions key that says join_sandbox was installed.
_JOINED = "gateway.sandbox"


class _SandboxedSession(FlaskSession):
    """Flask-SQLAlchemy's session on the sandbox's connections: its own ``get_bind`` picks
    the app's engines by bind key, and would pass the sandbox by; SQLAlchemy's uses
    ``binds``."""

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Engine | Connection | None = None,
        **kwargs: Any,
    ) -> Engine | Connection:
        return Session.get_bind(self, mapper, clause=clause, bind=bind, **kwargs)
