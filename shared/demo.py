"""Demo data for a fresh database: a few users, articles with tags, favorites, follows, comments.

Seeding only ever fills an empty database: if any user exists it changes nothing, so it is
safe to run at every start and never mixes demo accounts into real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from shared.content import base_slug, normalise_tags
from shared.db import Database
from shared.models import Article, ArticleTag, Comment, Favorite, Follow, Tag, User
from shared.passwords import hash_password
from shared.timefmt import utcnow


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    email: str
    password: str
    bio: str | None = None


@dataclass(frozen=True, slots=True)
class DemoArticle:
    author: str
    title: str
    description: str
    body: str
    tags: tuple[str, ...] = ()
    favorited_by: tuple[str, ...] = ()
    comments: tuple[tuple[str, str], ...] = ()  # (author, body)


USERS = (
    DemoUser("alice", "alice@example.com", "alice-password", "Keeps the legacy app running."),
    DemoUser("bob", "bob@example.com", "bob-password", "Writes the new FastAPI routes."),
    DemoUser("carol", "carol@example.com", "carol-password"),
)

# (follower, followee)
FOLLOWS = (("bob", "alice"), ("carol", "alice"), ("alice", "bob"))

# Oldest first; each is an hour newer than the one before it.
ARTICLES = (
    DemoArticle(
        author="alice",
        title="Why we did not rewrite the Flask app",
        description="A big-bang rewrite stops delivery for months.",
        body="We mount the Flask app under /legacy and move one module at a time.",
        tags=("migration", "flask"),
        favorited_by=("bob", "carol"),
        comments=(("bob", "Agreed: clients keep working the whole time."),),
    ),
    DemoArticle(
        author="bob",
        title="One database, two frameworks",
        description="Flask and FastAPI share the SQLAlchemy models.",
        body="Both sides read and write the same tables, so a module can switch over at once.",
        tags=("sqlalchemy", "fastapi", "flask"),
        favorited_by=("alice",),
        comments=(("alice", "And the same JWTs, so nobody logs in twice."),),
    ),
    DemoArticle(
        author="alice",
        title="Measuring the thread pool",
        description="What a2wsgi's thread count trades away.",
        body="More threads give legacy views throughput and cost the async side latency.",
        tags=("asgi", "performance"),
    ),
    DemoArticle(
        author="carol",
        title="Shadow traffic before a cut-over",
        description="Replay safe requests and compare the answers.",
        body="A GET answered by both sides must give the same status and the same JSON.",
        tags=("migration", "testing"),
        favorited_by=("alice", "bob"),
        comments=(
            ("alice", "Only GET and HEAD, never a write."),
            ("bob", "And diff the JSON, not the bytes."),
        ),
    ),
    DemoArticle(
        author="bob",
        title="Hello from the new side",
        description="The first FastAPI router is coming.",
        body="It will serve the same contract under /v2.",
        tags=("fastapi",),
    ),
)


def _has_users(session: Session) -> bool:
    return bool(session.scalar(select(exists().select_from(User))))


def seed(database: Database) -> bool:
    """Insert the demo data if the database has no users; return whether it did."""
    with database.session(write=False) as session:
        if _has_users(session):
            return False
    # Hash before taking the write lock: argon2 is deliberately slow.
    hashes = {user.username: hash_password(user.password) for user in USERS}
    with database.transaction() as session:
        if _has_users(session):  # someone registered or seeded meanwhile
            return False
        _insert(session, hashes)
    return True


def _insert(session: Session, hashes: dict[str, str]) -> None:
    start = utcnow() - timedelta(hours=len(ARTICLES))
    users = {
        u.username: User(
            username=u.username,
            email=u.email,
            password_hash=hashes[u.username],
            bio=u.bio,
            created_at=start,
            updated_at=start,
        )
        for u in USERS
    }
    session.add_all(users.values())
    session.flush()
    session.add_all(
        Follow(follower_id=users[follower].id, followee_id=users[followee].id)
        for follower, followee in FOLLOWS
    )

    tags = {
        name: Tag(name=name)
        for name in normalise_tags([tag for article in ARTICLES for tag in article.tags])
    }
    session.add_all(tags.values())

    for index, demo in enumerate(ARTICLES, start=1):
        created = start + timedelta(hours=index)
        article = Article(
            slug=base_slug(demo.title),
            title=demo.title,
            description=demo.description,
            body=demo.body,
            author=users[demo.author],
            created_at=created,
            updated_at=created,
            tag_links=[
                ArticleTag(tag=tags[name], position=position)
                for position, name in enumerate(normalise_tags(list(demo.tags)))
            ],
        )
        session.add(article)
        session.flush()
        session.add_all(
            Favorite(user_id=users[username].id, article_id=article.id)
            for username in demo.favorited_by
        )
        session.add_all(
            Comment(
                article_id=article.id,
                author_id=users[author].id,
                body=body,
                created_at=created + timedelta(minutes=minutes),
                updated_at=created + timedelta(minutes=minutes),
            )
            for minutes, (author, body) in enumerate(demo.comments, start=5)
        )
