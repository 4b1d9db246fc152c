"""Database URLs: the driver each side needs, and where the gateway keeps its records."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url


def sync_url(url: str | URL) -> URL:
    return _with_driver(make_url(url), sqlite="pysqlite", postgresql="psycopg")


def async_url(url: str | URL) -> URL:
    return _with_driver(make_url(url), sqlite="aiosqlite", postgresql="psycopg")


def _with_driver(url: URL, *, sqlite: str, postgresql: str) -> URL:
    backend = url.get_backend_name()
    if backend == "postgres":  # the spelling Heroku-style URLs use
        backend = "postgresql"
    if backend == "sqlite":
        return url.set(drivername=f"sqlite+{sqlite}")
    if backend == "postgresql":
        return url.set(drivername=f"postgresql+{postgresql}")
    shown = url.render_as_string(hide_password=True)
    raise ValueError(f"unsupported database {shown!r}: use sqlite:// or postgresql://")


def records_url(application_url: str | URL) -> URL:
    """Where the gateway keeps its records when told only the application's database.

    On PostgreSQL, the same database (the records live in their own schema). SQLite has no
    schemas, so the records go to a file beside the application's (``app.db`` ->
    ``app.gateway.db``): the application's own tools never see the gateway's tables.
    """
    url = sync_url(application_url)
    if url.get_backend_name() != "sqlite":
        return url
    if url.database in (None, "", ":memory:"):
        raise ValueError("the application's SQLite database is in memory; set a records database")
    path = Path(url.database)
    return url.set(database=str(path.with_name(f"{path.stem}.gateway{path.suffix or '.db'}")))


def shown(url: str | URL) -> str:
    """The URL for messages and logs: never the password."""
    return make_url(url).render_as_string(hide_password=True)
