"""Registration, login and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import rules
from shared.errors import Conflict, Unauthorized
from shared.models import User
from shared.passwords import hash_password, verify_password
from shared.queries import taken_fields, users_taking
from v2.deps import CurrentUser, SessionDep, TokenDep, TokensDep
from v2.schemas import LoginUser, NewUser, UpdateUser, UserEnvelope, UserOut, error_responses

router = APIRouter(tags=["users"], responses=error_responses(401, 409))


async def _refuse_taken(
    session: AsyncSession,
    *,
    username: str | None,
    email: str | None,
    except_id: int | None = None,
) -> None:
    stmt = users_taking(username=username, email=email, except_id=except_id)
    rows = (await session.execute(stmt)).all()
    if taken := taken_fields(rows, username=username, email=email):
        raise Conflict(*taken)


async def _commit(session: AsyncSession) -> None:
    """Commit; a unique-constraint race lost to another writer is still a 409."""
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        fields = [f for f in ("username", "email") if f in str(exc.orig)] or ["username"]
        raise Conflict(*fields) from exc


@router.post("/users", status_code=201, response_model=UserEnvelope)
async def register(
    user: Annotated[NewUser, Body(embed=True)], session: SessionDep, tokens: TokensDep
) -> UserEnvelope:
    await _refuse_taken(session, username=user.username, email=user.email)
    account = User(
        username=user.username, email=user.email, password_hash=hash_password(user.password)
    )
    session.add(account)
    await _commit(session)
    return UserEnvelope(user=UserOut.of(account, token=tokens.issue(account.id)))


@router.post("/users/login", response_model=UserEnvelope)
async def login(
    user: Annotated[LoginUser, Body(embed=True)], session: SessionDep, tokens: TokensDep
) -> UserEnvelope:
    account = await session.scalar(select(User).where(User.email == user.email))
    stored = account.password_hash if account else None
    valid, new_hash = verify_password(user.password, stored)
    if account is None or not valid:
        field, message = rules.BAD_CREDENTIALS
        raise Unauthorized(message, field=field)
    if new_hash is not None:
        account.password_hash = new_hash  # an older hash format, upgraded to argon2id
        await session.commit()
    return UserEnvelope(user=UserOut.of(account, token=tokens.issue(account.id)))


@router.get("/user", response_model=UserEnvelope)
async def get_current_user(me: CurrentUser, token: TokenDep) -> UserEnvelope:
    return UserEnvelope(user=UserOut.of(me, token=token))


@router.put("/user", response_model=UserEnvelope)
async def update_current_user(
    user: Annotated[UpdateUser, Body(embed=True)],
    me: CurrentUser,
    token: TokenDep,
    session: SessionDep,
) -> UserEnvelope:
    changes = user.model_dump(exclude_unset=True)
    if user.username is not None or user.email is not None:
        await _refuse_taken(session, username=user.username, email=user.email, except_id=me.id)
    if "password" in changes:
        me.password_hash = hash_password(changes.pop("password"))
    for name, value in changes.items():
        setattr(me, name, value)
    await _commit(session)
    return UserEnvelope(user=UserOut.of(me, token=token))
