"""A valid token whose user has since been deleted signs nobody in, on every kind of route."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from shared.db import Database
from shared.models import User
from tests.conduit import Account, Api, assert_error

ROUTES = [
    ("GET", "/articles"),
    ("GET", "/articles/feed"),
    ("GET", "/articles/{slug}"),
    ("POST", "/articles/{slug}/favorite"),
    ("DELETE", "/articles/{slug}/favorite"),
    ("GET", "/articles/{slug}/comments"),
    ("GET", "/user"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_deleted_users_token_is_refused(
    api: Api, alice: Account, database: Database, method: str, path: str
) -> None:
    slug = api.create_article(alice)["slug"]
    gone = api.register()
    with database.transaction() as session:
        session.execute(delete(User).where(User.username == gone.username))

    response = api.request(method, path.format(slug=slug), user=gone)

    assert assert_error(response, 401, "token") == ["belongs to no user"]
    # Nothing was written on the way to the refusal.
    assert api.get(f"/articles/{slug}").json()["article"]["favoritesCount"] == 0
