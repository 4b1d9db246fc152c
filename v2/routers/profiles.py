"""Profiles and follows."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import NotFound, ValidationFailed
from shared.models import Follow, User
from shared.queries import insert_once, profile_by_username
from v2.deps import CurrentUser, OptionalUser, SessionDep
from v2.schemas import Profile, ProfileEnvelope, error_responses

router = APIRouter(prefix="/profiles", tags=["profiles"], responses=error_responses(401, 404))


async def _profile(session: AsyncSession, username: str, viewer: User | None) -> ProfileEnvelope:
    stmt = profile_by_username(viewer_id=viewer.id if viewer else None, username=username)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("profile")
    return ProfileEnvelope(profile=Profile.of(row[0], following=row.following))


async def _target(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("profile")
    return user


@router.get("/{username}", response_model=ProfileEnvelope)
async def get_profile(username: str, session: SessionDep, viewer: OptionalUser) -> ProfileEnvelope:
    return await _profile(session, username, viewer)


@router.post("/{username}/follow", response_model=ProfileEnvelope)
async def follow(username: str, session: SessionDep, me: CurrentUser) -> ProfileEnvelope:
    target = await _target(session, username)
    if target.id == me.id:
        raise ValidationFailed.on("profile", "cannot follow yourself")
    dialect = session.get_bind().dialect.name
    await session.execute(insert_once(dialect, Follow, follower_id=me.id, followee_id=target.id))
    await session.commit()
    return await _profile(session, username, me)


@router.delete("/{username}/follow", response_model=ProfileEnvelope)
async def unfollow(username: str, session: SessionDep, me: CurrentUser) -> ProfileEnvelope:
    target = await _target(session, username)
    await session.execute(
        delete(Follow).where(Follow.follower_id == me.id, Follow.followee_id == target.id)
    )
    await session.commit()
    return await _profile(session, username, me)
