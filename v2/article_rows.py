"""Articles as rows, rendered once: v2's listings, feed, one article and favourite toggles.

The legacy views build ORM entities (an article, its author, its tag links and their tags)
and then a marshmallow dump of them; most of their time goes there. Here each answer is one
SELECT of exactly the columns it shows, with the tags already aggregated in the author's
order by the database, turned into plain dicts and dumped once by orjson: no entity, no
model, no second validation. The contract tests hold these answers equal to the legacy ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from shared.errors import NotFound, Unauthorized
from shared.models import Article, ArticleTag, Favorite, Tag, User
from shared.queries import (
    article_count,
    favorited_by,
    favorites_count,
    follows,
    insert_once,
)
from shared.timefmt import isoformat


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


def _rows(session: Session, *, viewer_id: int | None, body: bool) -> Select[Any]:
    dialect = session.get_bind().dialect.name
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
        favorited_by(viewer_id).label("favorited"),
        follows(viewer_id, Article.author_id).label("following"),
        _tag_names(dialect).label("tags"),
    ).join_from(Article, User, User.id == Article.author_id)


def _tags(value: Any) -> list[str]:
    if value is None:  # PostgreSQL's array_agg over no rows
        return []
    if isinstance(value, str):  # SQLite's json_group_array
        tags: list[str] = orjson.loads(value)
        return tags
    return list(value)


def _article(row: Any) -> dict[str, Any]:
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
    if "body" in row._fields:
        article["body"] = row.body
    return article


def confirm_viewer(session: Session, viewer_id: int | None) -> None:
    """A verified token whose user is gone signs nobody in (as the legacy app answers)."""
    if viewer_id is None:
        return
    if session.scalar(select(User.id).where(User.id == viewer_id)) is None:
        raise Unauthorized("belongs to no user")


def article_json(session: Session, *, slug: str, viewer_id: int | None) -> bytes:
    """``{"article": ...}`` for the article at ``slug``, as the viewer sees it."""
    confirm_viewer(session, viewer_id)
    return _article_json(session, slug=slug, viewer_id=viewer_id)


def _article_json(session: Session, *, slug: str, viewer_id: int | None) -> bytes:
    stmt = _rows(session, viewer_id=viewer_id, body=True).where(Article.slug == slug)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound("article")
    return orjson.dumps({"article": _article(row)})


def page_json(
    session: Session,
    *,
    filters: Sequence[ColumnElement[bool]],
    viewer_id: int | None,
    limit: int,
    offset: int,
) -> bytes:
    """``{"articles": [...], "articlesCount": n}``: one page, newest first, without bodies."""
    confirm_viewer(session, viewer_id)
    stmt = (
        _rows(session, viewer_id=viewer_id, body=False)
        .where(*filters)
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
    )
    articles = [_article(row) for row in session.execute(stmt)]
    count = session.scalar(article_count(filters)) or 0
    return orjson.dumps({"articles": articles, "articlesCount": count})


def favorite_json(session: Session, *, slug: str, user_id: int, favorite: bool) -> bytes:
    """Favourite (or unfavourite) the article at ``slug``; answers with it, as the user sees
    it. Idempotent both ways: a concurrent twin of the same favourite inserts nothing."""
    confirm_viewer(session, user_id)
    article_id = session.scalar(select(Article.id).where(Article.slug == slug))
    if article_id is None:
        raise NotFound("article")
    if favorite:
        dialect = session.get_bind().dialect.name
        session.execute(insert_once(dialect, Favorite, user_id=user_id, article_id=article_id))
    else:
        session.execute(
            delete(Favorite).where(Favorite.user_id == user_id, Favorite.article_id == article_id)
        )
    return _article_json(session, slug=slug, viewer_id=user_id)
