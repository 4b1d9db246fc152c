"""Articles: listing, feed, CRUD and favourites."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import rules
from shared.content import base_slug, fresh_slug, normalise_tags
from shared.errors import Forbidden, NotFound
from shared.models import Article, Tag, User
from shared.queries import (
    ArticleView,
    article_by_slug,
    article_slug_taken,
    tags_named,
    to_article_view,
)
from shared.tagging import relink_tags
from shared.timefmt import utcnow
from v2.article_rows import Page, article_json, favorite_json, page_json
from v2.deps import CurrentUser, DatabaseDep, SessionDep, SignedInId, ViewerId
from v2.responses import RenderedJSON
from v2.schemas import (
    ArticleEnvelope,
    ArticleOut,
    ArticlesEnvelope,
    Filter,
    Limit,
    NewArticle,
    Offset,
    UpdateArticle,
    error_responses,
)

router = APIRouter(prefix="/articles", tags=["articles"], responses=error_responses(401, 403, 404))

LimitQuery = Annotated[Limit, Query(description="Page size")]
OffsetQuery = Annotated[Offset, Query(description="Articles to skip")]
FilterQuery = Annotated[Filter | None, Query()]


def _viewer_id(user: User | None) -> int | None:
    return user.id if user is not None else None


async def _view(session: AsyncSession, slug: str, viewer: User | None) -> ArticleView:
    row = (await session.execute(article_by_slug(viewer_id=_viewer_id(viewer), slug=slug))).first()
    if row is None:
        raise NotFound("article")
    return to_article_view(row)


async def _one(session: AsyncSession, slug: str, viewer: User | None) -> ArticleEnvelope:
    return ArticleEnvelope(article=ArticleOut.of(await _view(session, slug, viewer)))


async def _own_article(session: AsyncSession, slug: str, me: User) -> Article:
    article: Article | None = (
        await session.scalars(article_by_slug(viewer_id=None, slug=slug))
    ).first()
    if article is None:
        raise NotFound("article")
    if article.author_id != me.id:
        raise Forbidden("article")
    return article


async def article_id_or_404(session: AsyncSession, slug: str) -> int:
    article_id = await session.scalar(select(Article.id).where(Article.slug == slug))
    if article_id is None:
        raise NotFound("article")
    return article_id


async def _free_slug(session: AsyncSession, title: str, *, except_id: int | None = None) -> str:
    slug = base_slug(title)
    if await session.scalar(article_slug_taken(slug, except_id=except_id)) is None:
        return slug
    return fresh_slug(title)


async def _tags(session: AsyncSession, names: list[str]) -> dict[str, Tag]:
    """The Tag rows for ``names``, creating the missing ones (race-safe on PostgreSQL)."""
    found = {tag.name: tag for tag in await session.scalars(tags_named(names))}
    for name in names:
        if name in found:
            continue
        try:
            async with session.begin_nested():
                tag = Tag(name=name)
                session.add(tag)
        except IntegrityError:  # another writer created it first
            tag = (await session.scalars(tags_named([name]))).one()
        found[name] = tag
    return found


async def _set_tags(session: AsyncSession, article: Article, raw: list[str]) -> None:
    names = normalise_tags(raw)
    relink_tags(article, names, await _tags(session, names))


@router.get("", response_model=ArticlesEnvelope)
async def list_articles(
    database: DatabaseDep,
    viewer: ViewerId,
    tag: FilterQuery = None,
    author: FilterQuery = None,
    favorited: FilterQuery = None,
    limit: LimitQuery = rules.PAGE_LIMIT_DEFAULT,
    offset: OffsetQuery = 0,
) -> Response:
    page = Page(limit=limit, offset=offset, tag=tag, author=author, favorited=favorited)
    return RenderedJSON(
        await database.run(partial(page_json, page=page, viewer_id=viewer), write=False)
    )


@router.get("/feed", response_model=ArticlesEnvelope)
async def feed(
    database: DatabaseDep,
    me: SignedInId,
    limit: LimitQuery = rules.PAGE_LIMIT_DEFAULT,
    offset: OffsetQuery = 0,
) -> Response:
    page = Page(limit=limit, offset=offset, feed=True)
    return RenderedJSON(
        await database.run(partial(page_json, page=page, viewer_id=me), write=False)
    )


@router.post("", status_code=201, response_model=ArticleEnvelope)
async def create_article(
    article: Annotated[NewArticle, Body(embed=True)], session: SessionDep, me: CurrentUser
) -> ArticleEnvelope:
    now = utcnow()
    row = Article(
        slug=await _free_slug(session, article.title),
        title=article.title,
        description=article.description,
        body=article.body,
        author_id=me.id,
        created_at=now,
        updated_at=now,
    )
    await _set_tags(session, row, article.tag_list)
    session.add(row)
    await session.commit()
    return await _one(session, row.slug, me)


@router.get("/{slug}", response_model=ArticleEnvelope)
async def get_article(slug: str, database: DatabaseDep, viewer: ViewerId) -> Response:
    one = partial(article_json, slug=slug, viewer_id=viewer)
    return RenderedJSON(await database.run(one, write=False))


@router.put("/{slug}", response_model=ArticleEnvelope)
async def update_article(
    slug: str,
    article: Annotated[UpdateArticle, Body(embed=True)],
    session: SessionDep,
    me: CurrentUser,
) -> ArticleEnvelope:
    row = await _own_article(session, slug, me)
    if article.title is not None and article.title != row.title:
        row.slug = await _free_slug(session, article.title, except_id=row.id)
    for name in ("title", "description", "body"):
        if (value := getattr(article, name)) is not None:
            setattr(row, name, value)
    if article.tag_list is not None:  # absent keeps the tags, [] removes them
        await _set_tags(session, row, article.tag_list)
    row.updated_at = utcnow()
    await session.commit()
    return await _one(session, row.slug, me)


@router.delete("/{slug}", status_code=204, response_class=Response)
async def delete_article(slug: str, session: SessionDep, me: CurrentUser) -> Response:
    row = await _own_article(session, slug, me)
    # Comments, favourites and tag links go with it (ON DELETE CASCADE).
    await session.execute(delete(Article).where(Article.id == row.id))
    await session.commit()
    return Response(status_code=204)


@router.post("/{slug}/favorite", response_model=ArticleEnvelope)
async def favorite(slug: str, database: DatabaseDep, me: SignedInId) -> Response:
    toggle = partial(favorite_json, slug=slug, user_id=me, favorite=True)
    return RenderedJSON(await database.run(toggle, write=True))


@router.delete("/{slug}/favorite", response_model=ArticleEnvelope)
async def unfavorite(slug: str, database: DatabaseDep, me: SignedInId) -> Response:
    toggle = partial(favorite_json, slug=slug, user_id=me, favorite=False)
    return RenderedJSON(await database.run(toggle, write=True))
