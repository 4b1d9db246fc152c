"""SQL statements both sides execute (sync in Flask, async in v2), so both read alike.

Every listing loads a page in a constant number of queries: the rows with their
per-viewer flags and favourite counts as correlated subqueries, the authors joined,
the ordered tags in one extra SELECT ... IN, and one COUNT for the filtered total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Executable, Select, exists, false, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from shared.identity import username_key
from shared.models import Article, ArticleTag, Comment, Favorite, Follow, Tag, User

# An article with its favourites count and the viewer's favorited / following flags.
ArticleSelect = Select[Article, int, bool, bool]
# A value in a statement: given now, or a named parameter of a statement built once and
# executed many times with its values (v2.article_rows).
Id = int | BindParameter[int]
Name = str | BindParameter[str]


@dataclass(frozen=True, slots=True)
class ArticleView:
    article: Article
    favorites_count: int
    favorited: bool
    following: bool


@dataclass(frozen=True, slots=True)
class ProfileView:
    user: User
    following: bool


@dataclass(frozen=True, slots=True)
class CommentView:
    comment: Comment
    following: bool


def follows(viewer_id: Id | None, author_id: Any) -> ColumnElement[bool]:
    if viewer_id is None:
        return false()
    return exists().where(Follow.follower_id == viewer_id, Follow.followee_id == author_id)


def favorites_count() -> ColumnElement[int]:
    """How many users favourited the article of the enclosing query."""
    return (
        select(func.count())
        .where(Favorite.article_id == Article.id)
        .correlate(Article)
        .scalar_subquery()
    )


def favorited_by(viewer_id: Id | None) -> ColumnElement[bool]:
    """Whether the viewer favourited the article of the enclosing query."""
    if viewer_id is None:
        return false()
    return exists().where(Favorite.article_id == Article.id, Favorite.user_id == viewer_id)


def articles_select(viewer_id: int | None) -> ArticleSelect:
    return select(
        Article,
        favorites_count().label("favorites_count"),
        favorited_by(viewer_id).label("favorited"),
        follows(viewer_id, Article.author_id).label("following"),
    ).options(
        joinedload(Article.author, innerjoin=True),
        selectinload(Article.tag_links).joinedload(ArticleTag.tag),
    )


def article_filters(
    *, tag: Name | None = None, author: Name | None = None, favorited: Name | None = None
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if tag is not None:
        filters.append(
            Article.id.in_(select(ArticleTag.article_id).join(Tag).where(Tag.name == tag))
        )
    if author is not None:
        filters.append(Article.author_id.in_(select(User.id).where(User.username == author)))
    if favorited is not None:
        filters.append(
            Article.id.in_(
                select(Favorite.article_id)
                .join(User, User.id == Favorite.user_id)
                .where(User.username == favorited)
            )
        )
    return filters


def feed_filters(viewer_id: Id) -> list[ColumnElement[bool]]:
    followed = select(Follow.followee_id).where(Follow.follower_id == viewer_id)
    return [Article.author_id.in_(followed)]


def article_page(
    *, viewer_id: int | None, filters: Sequence[ColumnElement[bool]], limit: int, offset: int
) -> ArticleSelect:
    return (
        articles_select(viewer_id)
        .where(*filters)
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
    )


def article_count(filters: Sequence[ColumnElement[bool]]) -> Select[int]:
    return select(func.count()).select_from(Article).where(*filters)


def article_by_slug(*, viewer_id: int | None, slug: str) -> ArticleSelect:
    return articles_select(viewer_id).where(Article.slug == slug)


def to_article_view(row: Any) -> ArticleView:
    return ArticleView(
        article=row[0],
        favorites_count=int(row.favorites_count),
        favorited=bool(row.favorited),
        following=bool(row.following),
    )


def profile_by_username(*, viewer_id: int | None, username: str) -> Select[User, bool]:
    return select(User, follows(viewer_id, User.id).label("following")).where(
        User.username == username
    )


def comments_for_article(*, viewer_id: int | None, article_id: int) -> Select[Comment, bool]:
    return (
        select(Comment, follows(viewer_id, Comment.author_id).label("following"))
        .options(joinedload(Comment.author, innerjoin=True))
        .where(Comment.article_id == article_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )


def users_taking(
    *, username: str | None, email: str | None, except_id: int | None = None
) -> Select[str, str]:
    """Users that already hold this username (compared by its key) or email (other than
    ``except_id``)."""
    key = username_key(username) if username is not None else None
    stmt = select(User.username_key, User.email).where(
        (User.username_key == key) | (User.email == email)
    )
    if except_id is not None:
        stmt = stmt.where(User.id != except_id)
    return stmt


def taken_fields(rows: Sequence[Any], *, username: str | None, email: str | None) -> list[str]:
    taken = []
    key = username_key(username) if username is not None else None
    if key is not None and any(row.username_key == key for row in rows):
        taken.append("username")
    if email is not None and any(row.email == email for row in rows):
        taken.append("email")
    return taken


def article_slug_taken(slug: str, *, except_id: int | None = None) -> Select[int]:
    stmt = select(Article.id).where(Article.slug == slug)
    if except_id is not None:
        stmt = stmt.where(Article.id != except_id)
    return stmt.limit(1)


def tags_in_use() -> Select[str]:
    used = exists().where(ArticleTag.tag_id == Tag.id)
    return select(Tag.name).where(used).order_by(Tag.name)


def tags_named(names: Sequence[str]) -> Select[Tag]:
    return select(Tag).where(Tag.name.in_(names))


def insert_once(dialect: str, entity: type[Favorite | Follow], **values: int) -> Executable:
    """Insert a link row unless it exists: the same favourite or follow sent twice at once (a
    double click, a client's retry) is one row, not a unique-key error for the second."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(entity).values(**values).on_conflict_do_nothing()
