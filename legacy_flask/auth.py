"""Flask's adapter over the shared token core: two decorators, nothing re-implemented."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from legacy_flask.db import get_session
from shared.errors import Unauthorized
from shared.models import User
from shared.tokens import TokenCore, token_from_header

F = TypeVar("F", bound=Callable[..., Any])

# The legacy contract: `Authorization: Token <jwt>` only (v2 also takes Bearer).
LEGACY_SCHEMES = ("token",)


def _authenticate(*, required: bool) -> None:
    g.user = None
    g.token = None
    token = token_from_header(request.headers.get("Authorization"), schemes=LEGACY_SCHEMES)
    if token is None:
        if required:
            raise Unauthorized("is missing")
        return
    tokens: TokenCore = current_app.extensions["conduit"]["tokens"]
    claims = tokens.verify(token)
    user = get_session().get(User, claims.user_id)
    if user is None:
        raise Unauthorized("belongs to no user")
    g.user, g.token = user, token


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _authenticate(required=True)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def login_optional(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _authenticate(required=False)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def current_user() -> User:
    user: User | None = g.get("user")
    if user is None:
        raise Unauthorized("is missing")
    return user


def viewer_id() -> int | None:
    user: User | None = g.get("user")
    return user.id if user is not None else None


def issue_token(user: User) -> str:
    tokens: TokenCore = current_app.extensions["conduit"]["tokens"]
    return tokens.issue(user.id)
