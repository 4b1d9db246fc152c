"""The second example app (examples/notes), served alone in-process on the suite's database.

It is a standalone app rather than part of the installed project, so it is imported from its
own folder, as ``flask --app notes_app`` would from there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest
from a2wsgi import WSGIMiddleware
from flask import Flask

from gateway.records.drivers import sync_url
from shared.settings import Settings
from tests.examples.helpers import NOTES_DIR, MakeUser
from tests.inprocess import BASE_URL, InProcessTransport, app_transport

if str(NOTES_DIR) not in sys.path:
    sys.path.insert(0, str(NOTES_DIR))

from notes_app import create_app
from notes_app.db import db
from notes_app.models import User

TEST_SECRET_KEY = "test-notes-session-secret"
TEST_JWT_SECRET_KEY = "test-notes-jwt-secret-long-enough-for-hs256"


@pytest.fixture(scope="module")
def notes_environment(settings: Settings) -> Iterator[None]:
    """The notes app reads NOTES_* when the gateway calls its factory: the suite's database."""
    url = sync_url(settings.database.url).render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NOTES_SQLALCHEMY_DATABASE_URI", url)
        patch.setenv("NOTES_SECRET_KEY", TEST_SECRET_KEY)
        patch.setenv("NOTES_JWT_SECRET_KEY", TEST_JWT_SECRET_KEY)
        yield


@pytest.fixture(scope="session")
def notes_app(settings: Settings) -> Iterator[Flask]:
    # Flask-SQLAlchemy takes the URL as given: PostgreSQL needs its driver spelled out.
    url = sync_url(settings.database.url).render_as_string(hide_password=False)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": TEST_SECRET_KEY,
            "JWT_SECRET_KEY": TEST_JWT_SECRET_KEY,
        }
    )
    yield app
    # Pooled connections left to the garbage collector warn (ResourceWarning) on PostgreSQL.
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def notes_transport(notes_app: Flask) -> Iterator[InProcessTransport]:
    """The app served in-process (through a2wsgi, as a server would run it); no socket."""
    with app_transport(WSGIMiddleware(notes_app)) as transport:
        yield transport


@pytest.fixture
def notes_tables(notes_app: Flask) -> Iterator[None]:
    with notes_app.app_context():
        db.create_all()
    yield
    with notes_app.app_context():
        db.drop_all()


@pytest.fixture
def http(notes_transport: InProcessTransport, notes_tables: None) -> Iterator[httpx.Client]:
    """A client of the app, keeping cookies like a browser; redirects not followed."""
    with httpx.Client(transport=notes_transport, base_url=BASE_URL, timeout=30) as client:
        yield client


@pytest.fixture
def other_http(notes_transport: InProcessTransport, notes_tables: None) -> Iterator[httpx.Client]:
    """A second browser, for a second user."""
    with httpx.Client(transport=notes_transport, base_url=BASE_URL, timeout=30) as client:
        yield client


@pytest.fixture
def make_user(notes_app: Flask, notes_tables: None) -> MakeUser:
    def make(username: str, password: str) -> int:
        with notes_app.app_context():
            user = User(username=username)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            return user.id

    return make
