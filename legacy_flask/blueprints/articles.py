"""Articles: listing, feed, CRUD and favourites."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from legacy_flask.auth import current_user, login_optional, login_required, viewer_id
from legacy_flask.db import get_session
from legacy_flask.payload import load_envelope
from legacy_flask.schemas import (
    ArticleListArgs,
    NewArticleSchema,
    UpdateArticleSchema,
    article_schema,
    articles_schema,
)
from shared.content import base_slug, fresh_slug, normalise_tags
from shared.errors import Forbidden, NotFound
from shared.models import Article, Favorite, Tag
from shared.queries import (
    ArticleView,
    article_by_slug,
    article_count,
    article_filters,
    article_page,
    article_slug_taken,
    feed_filters,
    insert_once,
    tags_named,
    to_article_view,
)
from shared.tagging import relink_tags
from shared.timefmt import utcnow

bp = Blueprint("articles", __name__, url_prefix="/api/articles")


def _view(session: Session, slug: str) -> ArticleView:
    row = session.execute(article_by_slug(viewer_id=viewer_id(), slug=slug)).first()
    if row is None:
        raise NotFound("article")
    return to_article_view(row)


def _one(session: Session, slug: str) -> dict[str, Any]:
    return {"article": article_schema.dump(_view(session, slug))}


def _page(session: Session, filters: list[ColumnElement[bool]]) -> dict[str, Any]:
    args = _list_args()
    rows = session.execute(
        article_page(
            viewer_id=viewer_id(), filters=filters, limit=args["limit"], offset=args["offset"]
        )
    ).all()
    return {
        "articles": articles_schema.dump([to_article_view(row) for row in rows]),
        "articlesCount": session.scalar(article_count(filters)),
    }


def _own_article(session: Session, slug: str) -> Article:
    article: Article | None = session.scalars(article_by_slug(viewer_id=None, slug=slug)).first()
    if article is None:
        raise NotFound("article")
    if article.author_id != current_user().id:
        raise Forbidden("article")
    return article


def _free_slug(session: Session, title: str, *, except_id: int | None = None) -> str:
    slug = base_slug(title)
    if session.scalar(article_slug_taken(slug, except_id=except_id)) is None:
        return slug
    return fresh_slug(title)


def _tags(session: Session, names: list[str]) -> dict[str, Tag]:
    """The Tag rows for ``names``, creating the missing ones (race-safe on PostgreSQL)."""
    found = {tag.name: tag for tag in session.scalars(tags_named(names))}
    for name in names:
        if name in found:
            continue
        try:
            with session.begin_nested():
                tag = Tag(name=name)
                session.add(tag)
        except IntegrityError:  # another writer created it first
            tag = session.scalars(tags_named([name])).one()
        found[name] = tag
    return found


def _set_tags(session: Session, article: Article, raw: list[str]) -> None:
    names = normalise_tags(raw)
    relink_tags(article, names, _tags(session, names))


def _list_args() -> dict[str, Any]:
    args: dict[str, Any] = ArticleListArgs().load(request.args)
    return args


@bp.get("")
@login_optional
def list_articles() -> dict[str, Any]:
    """Articles, newest first, filtered.

    ---
    get:
      security: [{}, {Token: []}]
      parameters: [{in: query, schema: ArticleListArgs}]
      responses:
        200:
          description: A page of articles and the total count
          content: {application/json: {schema: ArticlesEnvelopeSchema}}
        422: Invalid
    """
    args = _list_args()
    filters = article_filters(
        tag=args.get("tag"), author=args.get("author"), favorited=args.get("favorited")
    )
    return _page(get_session(), filters)


@bp.get("/feed")
@login_required
def feed() -> dict[str, Any]:
    """Articles by followed authors, newest first.

    ---
    get:
      security: [{Token: []}]
      parameters: [{in: query, schema: PageArgs}]
      responses:
        200:
          description: A page of articles and the total count
          content: {application/json: {schema: ArticlesEnvelopeSchema}}
        401: Unauthorized
        422: Invalid
    """
    return _page(get_session(), feed_filters(current_user().id))


@bp.post("")
@login_required
def create_article() -> tuple[dict[str, Any], int]:
    """Create an article.

    ---
    post:
      security: [{Token: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [article], properties: {article: NewArticleSchema}}
      responses:
        201:
          description: The new article
          content: {application/json: {schema: ArticleEnvelopeSchema}}
        401: Unauthorized
        422: Invalid
    """
    data = load_envelope("article", NewArticleSchema())
    session = get_session()
    now = utcnow()
    article = Article(
        slug=_free_slug(session, data["title"]),
        title=data["title"],
        description=data["description"],
        body=data["body"],
        author_id=current_user().id,
        created_at=now,
        updated_at=now,
    )
    _set_tags(session, article, data.get("tagList", []))
    session.add(article)
    session.commit()
    return _one(session, article.slug), 201


@bp.get("/<slug>")
@login_optional
def get_article(slug: str) -> dict[str, Any]:
    """An article.

    ---
    get:
      security: [{}, {Token: []}]
      responses:
        200:
          description: The article
          content: {application/json: {schema: ArticleEnvelopeSchema}}
        404: NotFound
    """
    return _one(get_session(), slug)


@bp.put("/<slug>")
@login_required
def update_article(slug: str) -> dict[str, Any]:
    """Update an article.

    ---
    put:
      security: [{Token: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [article], properties: {article: UpdateArticleSchema}}
      responses:
        200:
          description: The updated article
          content: {application/json: {schema: ArticleEnvelopeSchema}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Invalid
    """
    data = load_envelope("article", UpdateArticleSchema())
    session = get_session()
    article = _own_article(session, slug)
    if "title" in data and data["title"] != article.title:
        article.slug = _free_slug(session, data["title"], except_id=article.id)
    for name in ("title", "description", "body"):
        if name in data:
            setattr(article, name, data[name])
    if "tagList" in data:  # absent keeps the tags, [] removes them
        _set_tags(session, article, data["tagList"])
    article.updated_at = utcnow()
    session.commit()
    return _one(session, article.slug)


@bp.delete("/<slug>")
@login_required
def delete_article(slug: str) -> tuple[str, int]:
    """Delete an article.

    ---
    delete:
      security: [{Token: []}]
      responses:
        204:
          description: Deleted
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    session = get_session()
    article = _own_article(session, slug)
    # Comments, favourites and tag links go with it (ON DELETE CASCADE).
    session.execute(delete(Article).where(Article.id == article.id))
    session.commit()
    return "", 204


@bp.post("/<slug>/favorite")
@login_required
def favorite(slug: str) -> dict[str, Any]:
    """Favorite an article.

    ---
    post:
      security: [{Token: []}]
      responses:
        200:
          description: The article
          content: {application/json: {schema: ArticleEnvelopeSchema}}
        401: Unauthorized
        404: NotFound
    """
    session = get_session()
    article_id = article_id_or_404(session, slug)
    dialect = session.get_bind().dialect.name
    session.execute(
        insert_once(dialect, Favorite, user_id=current_user().id, article_id=article_id)
    )
    session.commit()
    return _one(session, slug)


@bp.delete("/<slug>/favorite")
@login_required
def unfavorite(slug: str) -> dict[str, Any]:
    """Unfavorite an article.

    ---
    delete:
      security: [{Token: []}]
      responses:
        200:
          description: The article
          content: {application/json: {schema: ArticleEnvelopeSchema}}
        401: Unauthorized
        404: NotFound
    """
    session = get_session()
    article_id = article_id_or_404(session, slug)
    session.execute(
        delete(Favorite).where(
            Favorite.user_id == current_user().id, Favorite.article_id == article_id
        )
    )
    session.commit()
    return _one(session, slug)


def article_id_or_404(session: Session, slug: str) -> int:
    article_id = session.scalar(select(Article.id).where(Article.slug == slug))
    if article_id is None:
        raise NotFound("article")
    return article_id
