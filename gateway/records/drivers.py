"""The driver each engine needs for a database URL, whatever driver the URL names.

An application configured with ``postgresql://`` (or ``postgres://``, or ``+psycopg2``) and
``sqlite:///`` gets psycopg 3 for both sync and async engines, pysqlite and aiosqlite: the
drivers the gateway installs. Nothing here imports the rest of the gateway, so the
applications it serves may use it too.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def sync_url(url: str | URL) -> URL:
    """``url`` with the driver a sync engine uses (pysqlite, psycopg)."""
    return _with_driver(make_url(url), sqlite="pysqlite", postgresql="psycopg")


def async_url(url: str | URL) -> URL:
    """``url`` with the driver an async engine uses (aiosqlite, psycopg)."""
    return _with_driver(make_url(url), sqlite="aiosqlite", postgresql="psycopg")


def _with_driver(url: URL, *, sqlite: str, postgresql: str) -> URL:
    backend = url.get_backend_name()
    if backend == "postgres":  # the spelling Heroku-style URLs use
        backend = "postgresql"
    if backend == "sqlite":
        return url.set(drivername=f"sqlite+{sqlite}")
    if backend == "postgresql":
        return url.set(drivername=f"postgresql+{postgresql}")
    raise ValueError(f"unsupported database {shown(url)!r}: use sqlite:// or postgresql://")


def on_disk(url: URL) -> URL:
    """``url``, unless it is an in-memory SQLite database, which no two engines can share
    (each would open an empty one of its own)."""
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError(
            f"an in-memory SQLite database ({shown(url)}) cannot be shared; use a file"
        )
    return url


def shown(url: str | URL) -> str:
    """The URL for messages and logs: never the password."""
    return make_url(url).render_as_string(hide_password=True)
