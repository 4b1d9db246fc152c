"""Profiles and follows."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from legacy_flask.auth import current_user, login_optional, login_required, viewer_id
from legacy_flask.db import get_session
from legacy_flask.schemas import profile_schema
from shared.errors import NotFound, ValidationFailed
from shared.models import Follow, User
from shared.queries import ProfileView, insert_once, profile_by_username

bp = Blueprint("profiles", __name__, url_prefix="/api/profiles")


def _profile(session: Session, username: str) -> dict[str, Any]:
    row = session.execute(profile_by_username(viewer_id=viewer_id(), username=username)).first()
    if row is None:
        raise NotFound("profile")
    return {"profile": profile_schema.dump(ProfileView(user=row[0], following=row.following))}


def _target(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("profile")
    return user


@bp.get("/<username>")
@login_optional
def get_profile(username: str) -> dict[str, Any]:
    """A profile.

    ---
    get:
      security: [{}, {Token: []}]
      responses:
        200:
          description: The profile
          content: {application/json: {schema: ProfileEnvelopeSchema}}
        404: NotFound
    """
    return _profile(get_session(), username)


@bp.post("/<username>/follow")
@login_required
def follow(username: str) -> dict[str, Any]:
    """Follow a user.

    ---
    post:
      security: [{Token: []}]
      responses:
        200:
          description: The followed profile
          content: {application/json: {schema: ProfileEnvelopeSchema}}
        401: Unauthorized
        404: NotFound
    """
    session = get_session()
    me, target = current_user(), _target(session, username)
    if target.id == me.id:
        raise ValidationFailed.on("profile", "cannot follow yourself")
    dialect = session.get_bind().dialect.name
    session.execute(insert_once(dialect, Follow, follower_id=me.id, followee_id=target.id))
    session.commit()
    return _profile(session, username)


@bp.delete("/<username>/follow")
@login_required
def unfollow(username: str) -> dict[str, Any]:
    """Unfollow a user.

    ---
    delete:
      security: [{Token: []}]
      responses:
        200:
          description: The unfollowed profile
          content: {application/json: {schema: ProfileEnvelopeSchema}}
        401: Unauthorized
        404: NotFound
    """
    session = get_session()
    me, target = current_user(), _target(session, username)
    session.execute(
        delete(Follow).where(Follow.follower_id == me.id, Follow.followee_id == target.id)
    )
    session.commit()
    return _profile(session, username)
