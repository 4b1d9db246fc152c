"""FastAPI's adapter over the shared core: the session and the token check as dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from shared import rules
from shared.db import Database
from shared.errors import Unauthorized
from shared.models import User
from shared.tokens import TokenCore, token_from_header

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Documents the scheme in OpenAPI; the header itself is parsed by the shared core.
token_header = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description="`Token <jwt>` (as legacy clients send it) or `Bearer <jwt>`",
    auto_error=False,
)


# Every dependency here is ``async def``, though none awaits: FastAPI runs a plain ``def``
# dependency in a worker thread, a hop per dependency per request for no reason.


async def storable_path(request: Request) -> None:
    """A path value no row can hold (NUL, an unpaired surrogate) names nothing: not found,
    before any query would fail on it (the legacy app answers the same)."""
    for value in request.path_params.values():
        if isinstance(value, str) and rules.character_problem(value):
            raise HTTPException(404, "Not Found")


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_tokens(request: Request) -> TokenCore:
    tokens: TokenCore = request.app.state.tokens
    return tokens


async def get_session(
    request: Request, database: Annotated[Database, Depends(get_database)]
) -> AsyncIterator[AsyncSession]:
    # Safe methods read; the others take SQLite's write lock up front (see shared.db). All
    # the request's waits on the database end within one deadline, the close's included.
    with database.deadline():
        write = request.method not in SAFE_METHODS
        async with await database.request_session(write=write) as session:
            yield session


DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TokensDep = Annotated[TokenCore, Depends(get_tokens)]


async def get_viewer_id(
    request: Request,
    tokens: TokensDep,
    authorization: Annotated[str | None, Security(token_header)],
) -> int | None:
    """The user id of a verified token, or None without one. Whether that user still exists
    is for the caller's unit of work to check (``v2.article_rows.confirm_viewer``), so that
    reading the user costs no round trip of its own."""
    token = token_from_header(authorization)
    if token is None:
        return None
    claims = tokens.verify(token)
    request.state.token = token
    return claims.user_id


async def get_signed_in_id(viewer_id: Annotated[int | None, Depends(get_viewer_id)]) -> int:
    if viewer_id is None:
        raise Unauthorized("is missing")
    return viewer_id


ViewerId = Annotated[int | None, Depends(get_viewer_id)]
SignedInId = Annotated[int, Depends(get_signed_in_id)]


async def get_optional_user(session: SessionDep, viewer_id: ViewerId) -> User | None:
    if viewer_id is None:
        return None
    user = await session.get(User, viewer_id)
    if user is None:
        raise Unauthorized("belongs to no user")
    return user


async def get_current_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise Unauthorized("is missing")
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
CurrentUser = Annotated[User, Depends(get_current_user)]


async def presented_token(request: Request, _user: CurrentUser) -> str:
    # Depending on CurrentUser makes sure the token was checked before it is echoed.
    token: str = request.state.token
    return token


TokenDep = Annotated[str, Depends(presented_token)]
