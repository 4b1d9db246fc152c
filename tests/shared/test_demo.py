from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from shared import demo
from shared.db import Database
from shared.models import Article, ArticleTag, Comment, Favorite, Follow, Tag, User
from shared.passwords import verify_password
from shared.settings import Settings


def _counts(database: Database) -> dict[str, int]:
    with database.session(write=False) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (User, Follow, Article, Tag, ArticleTag, Favorite, Comment)
        }


def test_seed_fills_an_empty_database(database: Database) -> None:
    assert demo.seed(database) is True

    counts = _counts(database)
    assert counts["users"] == len(demo.USERS)
    assert counts["articles"] == len(demo.ARTICLES)
    assert counts["follows"] == len(demo.FOLLOWS)
    assert counts["favorites"] == sum(len(a.favorited_by) for a in demo.ARTICLES)
    assert counts["comments"] == sum(len(a.comments) for a in demo.ARTICLES)
    assert counts["tags"] == len({tag for a in demo.ARTICLES for tag in a.tags})


def test_seed_runs_once(database: Database) -> None:
    assert demo.seed(database) is True
    before = _counts(database)

    assert demo.seed(database) is False
    assert _counts(database) == before


def test_seed_leaves_a_database_with_users_alone(database: Database) -> None:
    with database.transaction() as session:
        session.add(User(username="real", email="real@example.org", password_hash="x"))

    assert demo.seed(database) is False
    assert _counts(database)["users"] == 1


def test_demo_passwords_are_argon2_and_verify(database: Database) -> None:
    demo.seed(database)

    with database.session(write=False) as session:
        hashes = dict(session.execute(select(User.email, User.password_hash)).all())
    for user in demo.USERS:
        assert hashes[user.email].startswith("$argon2id$")
        assert verify_password(user.password, hashes[user.email]) == (True, None)


def test_demo_is_usable_through_the_legacy_api(settings: Settings, database: Database) -> None:
    from legacy_flask import create_app

    demo.seed(database)
    client = create_app(settings, database=database).test_client()
    first = demo.USERS[0]

    login = client.post(
        "/api/users/login", json={"user": {"email": first.email, "password": first.password}}
    )
    listing: Any = client.get("/api/articles").get_json()

    assert login.status_code == 200
    assert login.get_json()["user"]["username"] == first.username
    assert listing["articlesCount"] == len(demo.ARTICLES)
    newest = demo.ARTICLES[-1]
    assert listing["articles"][0]["title"] == newest.title
    oldest = demo.ARTICLES[0]
    assert listing["articles"][-1]["tagList"] == list(oldest.tags)
    assert listing["articles"][-1]["favoritesCount"] == len(oldest.favorited_by)
