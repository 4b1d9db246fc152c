"""Articles as rows, rendered once: v2's listings, feed, one article and favourite toggles.

The legacy views build ORM entities (an article, its author, its tag links and their tags)
and then a marshmallow dump of them; most of their time goes there. Here each answer is one
SELECT of exactly the columns it shows, with the tags already aggregated in the author's
order by the database, turned into plain dicts and dumped once by orjson: no entity, no
model, no second validation. The contract tests hold these answers equal to the legacy ones.

Each statement is built once per shape (dialect, signed in or not, which filters) with its
values as named parameters: building and cache-keying a statement of this size costs more
than running it on SQLite, so it is not done per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql

from shared.errors import NotFound, Unauthorized
from shared.models import Article, ArticleTag, Favorite, Tag, User
from shared.queries import (
    article_count,
    article_filters,
    favorited_by,
    favorites_count,
    feed_filters,
    follows,
    insert_once,
)
from shared.timefmt import isoformat

VIEWER = bindparam("viewer_id", type_=Integer)


def _named(name: str) -> BindParameter[str]:
    return bindparam(name, type_=String)


_USER_EXISTS = select(User.id).where(User.id == VIEWER)
_ARTICLE_ID = select(Article.id).where(Article.slug == _named("slug"))


@dataclass(frozen=True, slots=True)
class Page:
    """Which page of articles: the filters given (their values are parameters) and where."""

    limit: int
    offset: int
    tag: str | None = None
    author: str | None = None
    favorited: str | None = None
    feed: bool = False

    def parameters(self, viewer_id: int | None) -> dict[str, Any]:
        given = {"tag": self.tag, "author": self.author, "favorited": self.favorited}
        values = {name: value for name, value in given.items() if value is not None}
        return {**values, "viewer_id": viewer_id, "limit": self.limit, "offset": self.offset}


def _tag_names(dialect: str) -> ColumnElement[Any]:
    """The article's tag names in the author's order: a list on PostgreSQL, JSON on SQLite."""
    if dialect == "postgresql":
        return (
            select(func.array_agg(postgresql.aggregate_order_by(Tag.name, ArticleTag.position)))
            .join_from(ArticleTag, Tag)
            .where(ArticleTag.article_id == Article.id)
            .correlate(Article)
            .scalar_subquery()
        )
    # SQLite before 3.44 has no ORDER BY inside an aggregate; it aggregates an ordered
    # subquery in that subquery's order.
    ordered = (
        select(Tag.name)
        .join_from(ArticleTag, Tag)
        .where(ArticleTag.article_id == Article.id)
        .order_by(ArticleTag.position)
        .correlate(Article)
        .subquery()
    )
    return select(func.json_group_array(ordered.c.name)).scalar_subquery()


def _rows(dialect: str, *, signed_in: bool, body: bool) -> Select[Any]:
    viewer = VIEWER if signed_in else None
    columns: list[Any] = [Article.slug, Article.title, Article.description]
    if body:
        columns.append(Article.body)
    return select(
        *columns,
        Article.created_at,
        Article.updated_at,
        User.username,
        User.bio,
        User.image,
        favorites_count().label("favorites_count"),
        favorited_by(viewer).label("favorited"),
        follows(viewer, Article.author_id).label("following"),
        _tag_names(dialect).label("tags"),
    ).join_from(Article, User, User.id == Article.author_id)


@cache
def _one_statement(dialect: str, signed_in: bool) -> Select[Any]:
    return _rows(dialect, signed_in=signed_in, body=True).where(Article.slug == _named("slug"))


@cache
def _page_statements(
    dialect: str, signed_in: bool, tag: bool, author: bool, favorited: bool, feed: bool
) -> tuple[Select[Any], Select[int]]:
    filters = article_filters(
        tag=_named("tag") if tag else None,
        author=_named("author") if author else None,
        favorited=_named("favorited") if favorited else None,
    )
    if feed:
        filters += feed_filters(VIEWER)
    rows = (
        _rows(dialect, signed_in=signed_in, body=False)
        .where(*filters)
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return rows, article_count(filters)


def _tags(value: Any) -> list[str]:
    if value is None:  # PostgreSQL's array_agg over no rows
        return []
    if isinstance(value, str):  # SQLite's json_group_array
        tags: list[str] = orjson.loads(value)
        return tags
    return list(value)


def _article(row: Any, *, body: bool) -> dict[str, Any]:
    article = {
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "tagList": _tags(row.tags),
        "createdAt": isoformat(row.created_at),
        "updatedAt": isoformat(row.updated_at),
        "favorited": bool(row.favorited),
        "favoritesCount": int(row.favorites_count),
        "author": {
            "username": row.username,
            "bio": row.bio,
            "image": row.image,
            "following": bool(row.following),
        },
    }
    if body:
        article["body"] = row.body
    return article


def confirm_viewer(conn: Connection, viewer_id: int | None) -> None:
    """A verified token whose user is gone signs nobody in (as the legacy app answers)."""
    if viewer_id is None:
        return
    if conn.scalar(_USER_EXISTS, {"viewer_id": viewer_id}) is None:
        raise Unauthorized("belongs to no user")


def article_json(conn: Connection, *, slug: str, viewer_id: int | None) -> bytes:
    """``{"article": ...}`` for the article at ``slug``, as the viewer sees it."""
    confirm_viewer(conn, viewer_id)
    return _article_json(conn, slug=slug, viewer_id=viewer_id)


def _article_json(conn: Connection, *, slug: str, viewer_id: int | None) -> bytes:
    stmt = _one_statement(conn.dialect.name, viewer_id is not None)
    row = conn.execute(stmt, {"slug": slug, "viewer_id": viewer_id}).first()
    if row is None:
        raise NotFound("article")
    return orjson.dumps({"article": _article(row, body=True)})


def page_json(conn: Connection, page: Page, *, viewer_id: int | None) -> bytes:
    """``{"articles": [...], "articlesCount": n}``: one page, newest first, without bodies."""
    confirm_viewer(conn, viewer_id)
    rows, count = _page_statements(
        conn.dialect.name,
        viewer_id is not None,
        page.tag is not None,
        page.author is not None,
        page.favorited is not None,
        page.feed,
    )
    parameters = page.parameters(viewer_id)
    articles = [_article(row, body=False) for row in conn.execute(rows, parameters)]
    total = conn.scalar(count, parameters) or 0
    return orjson.dumps({"articles": articles, "articlesCount": total})


def favorite_json(conn: Connection, *, slug: str, user_id: int, favorite: bool) -> bytes:
    """Favourite (or unfavourite) the article at ``slug``; answers with it, as the user sees
    it. Idempotent both ways: a concurrent twin of the same favourite inserts nothing."""
    confirm_viewer(conn, user_id)
    article_id = conn.scalar(_ARTICLE_ID, {"slug": slug})
    if article_id is None:
        raise NotFound("article")
    if favorite:
        link = insert_once(conn.dialect.name, Favorite, user_id=user_id, article_id=article_id)
        conn.execute(link)
    else:
        conn.execute(
            delete(Favorite).where(Favorite.user_id == user_id, Favorite.article_id == article_id)
        )
    return _article_json(conn, slug=slug, viewer_id=user_id)
