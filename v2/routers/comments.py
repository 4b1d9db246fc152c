"""Comments on an article."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response
from sqlalchemy import delete, select

from shared import rules
from shared.errors import Forbidden, NotFound
from shared.models import Comment
from shared.queries import CommentView, comments_for_article
from shared.timefmt import utcnow
from v2.deps import CurrentUser, OptionalUser, SessionDep
from v2.routers.articles import article_id_or_404
from v2.schemas import CommentEnvelope, CommentOut, CommentsEnvelope, NewComment, error_responses

router = APIRouter(
    prefix="/articles/{slug}/comments", tags=["comments"], responses=error_responses(401, 403, 404)
)


@router.get("", response_model=CommentsEnvelope)
async def list_comments(slug: str, session: SessionDep, viewer: OptionalUser) -> CommentsEnvelope:
    stmt = comments_for_article(
        viewer_id=viewer.id if viewer else None, article_id=await article_id_or_404(session, slug)
    )
    rows = (await session.execute(stmt)).all()
    return CommentsEnvelope(
        comments=[CommentOut.of(CommentView(comment=r[0], following=r.following)) for r in rows]
    )


@router.post("", status_code=201, response_model=CommentEnvelope)
async def add_comment(
    slug: str,
    comment: Annotated[NewComment, Body(embed=True)],
    session: SessionDep,
    me: CurrentUser,
) -> CommentEnvelope:
    now = utcnow()
    row = Comment(
        article_id=await article_id_or_404(session, slug),
        author=me,
        body=comment.body,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.commit()
    # Nobody follows themselves (following yourself is refused), so `following` is false.
    return CommentEnvelope(comment=CommentOut.of(CommentView(comment=row, following=False)))


@router.delete("/{comment_id}", status_code=204, response_class=Response)
async def delete_comment(
    slug: str, comment_id: int, session: SessionDep, me: CurrentUser
) -> Response:
    article_id = await article_id_or_404(session, slug)
    row = None
    if rules.storable_id(comment_id):
        row = await session.scalar(
            select(Comment).where(Comment.id == comment_id, Comment.article_id == article_id)
        )
    if row is None:
        raise NotFound("comment")
    if row.author_id != me.id:
        raise Forbidden("comment")
    await session.execute(delete(Comment).where(Comment.id == row.id))
    await session.commit()
    return Response(status_code=204)
