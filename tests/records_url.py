"""A records database of the test's own, for the tests of a running ``gateway serve``: a fresh
PostgreSQL database in the PostgreSQL pass (the suite's own records are shared by its other
tests), a SQLite file otherwise. The control-plane and metrics packages use the fixture."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.postgres import URL_VARIABLE


@pytest.fixture
def records_url(tmp_path: Path) -> Iterator[str]:
    suite = os.environ.get(URL_VARIABLE)
    if not suite:
        yield f"sqlite:///{tmp_path / 'records.db'}"
        return
    name = f"control_{uuid.uuid4().hex[:12]}"
    server = make_url(suite).set(drivername="postgresql")
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
