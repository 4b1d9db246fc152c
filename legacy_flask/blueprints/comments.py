"""Comments on an article."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import delete, select

from legacy_flask.auth import current_user, login_optional, login_required, viewer_id
from legacy_flask.blueprints.articles import article_id_or_404
from legacy_flask.db import get_session
from legacy_flask.payload import load_envelope
from legacy_flask.schemas import NewCommentSchema, comment_schema, comments_schema
from shared import rules
from shared.errors import Forbidden, NotFound
from shared.models import Comment
from shared.queries import CommentView, comments_for_article
from shared.timefmt import utcnow

bp = Blueprint("comments", __name__, url_prefix="/api/articles/<slug>/comments")


@bp.get("")
@login_optional
def list_comments(slug: str) -> dict[str, Any]:
    """An article's comments.

    ---
    get:
      security: [{}, {Token: []}]
      responses:
        200:
          description: The comments
          content: {application/json: {schema: CommentsEnvelopeSchema}}
        404: NotFound
    """
    session = get_session()
    stmt = comments_for_article(viewer_id=viewer_id(), article_id=article_id_or_404(session, slug))
    views = [CommentView(comment=row[0], following=row.following) for row in session.execute(stmt)]
    return {"comments": comments_schema.dump(views)}


@bp.post("")
@login_required
def add_comment(slug: str) -> tuple[dict[str, Any], int]:
    """Comment on an article.

    ---
    post:
      security: [{Token: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [comment], properties: {comment: NewCommentSchema}}
      responses:
        201:
          description: The new comment
          content: {application/json: {schema: CommentEnvelopeSchema}}
        401: Unauthorized
        404: NotFound
        422: Invalid
    """
    data = load_envelope("comment", NewCommentSchema())
    session = get_session()
    me = current_user()
    now = utcnow()
    comment = Comment(
        article_id=article_id_or_404(session, slug),
        author=me,
        body=data["body"],
        created_at=now,
        updated_at=now,
    )
    session.add(comment)
    session.commit()
    # Nobody follows themselves (following yourself is refused), so `following` is false.
    return {"comment": comment_schema.dump(CommentView(comment=comment, following=False))}, 201


@bp.delete("/<int:comment_id>")
@login_required
def delete_comment(slug: str, comment_id: int) -> tuple[str, int]:
    """Delete a comment.

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
    article_id = article_id_or_404(session, slug)
    comment = (
        None
        if not rules.storable_id(comment_id)
        else session.scalar(
            select(Comment).where(Comment.id == comment_id, Comment.article_id == article_id)
        )
    )
    if comment is None:
        raise NotFound("comment")
    if comment.author_id != current_user().id:
        raise Forbidden("comment")
    session.execute(delete(Comment).where(Comment.id == comment.id))
    session.commit()
    return "", 204
