"""Where the gateway keeps its records: named by the ``database`` option, or beside the app's."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.engine import URL

from gateway.config.configuration import Config
from gateway.config.errors import ConfigError
from gateway.records.drivers import on_disk, shown, sync_url

logger = logging.getLogger(__name__)

# Where the records go when neither the option nor the legacy app names a database.
FALLBACK_RECORDS_URL = "sqlite:///var/gateway.db"


def records_url(application_url: str | URL) -> URL:
    """Where the gateway keeps its records when told only the application's database.

    On PostgreSQL, the same database (the records live in their own schema). SQLite has no
    schemas, so the records go to a file beside the application's (``app.db`` ->
    ``app.gateway.db``): the application's own tools never see the gateway's tables.
    """
    url = on_disk(sync_url(application_url))
    if url.get_backend_name() != "sqlite":
        return url
    path = Path(str(url.database))
    return url.set(database=str(path.with_name(f"{path.stem}.gateway{path.suffix or '.db'}")))


def records_database(config: Config, application_url: str | None) -> URL:
    """The gateway's records: the ``database`` option as it is named, else beside the
    application's data, else :data:`FALLBACK_RECORDS_URL` (also used as it is named)."""
    try:
        if config.options.database is not None:
            return on_disk(sync_url(config.options.database))
        if application_url is not None:
            return records_url(application_url)
    except ValueError as exc:
        raise ConfigError([f"{config.place('database')}: {exc}"]) from exc
    url = sync_url(FALLBACK_RECORDS_URL)
    logger.warning("the legacy app names no database; gateway records go to %s", shown(url))
    return url
