"""The extensions' view decorators, with types.

Flask-Login ships no type hints and flask-jwt-extended's ``jwt_required`` returns ``Any``, so
without these a type checker sees every guarded view as untyped. They add no behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import flask_jwt_extended
import flask_login
from flask.typing import ResponseReturnValue

ViewT = TypeVar("ViewT", bound=Callable[..., ResponseReturnValue])


def login_required(view: ViewT) -> ViewT:
    """Flask-Login's: the signed-in user, else a redirect to the login page with ``next``."""
    guarded: ViewT = flask_login.login_required(view)
    return guarded


def jwt_required(
    *, fresh: bool = False, refresh: bool = False, verify_type: bool = True
) -> Callable[[ViewT], ViewT]:
    """flask-jwt-extended's: a valid, unrevoked JWT of the right type, else 401 in JSON."""
    decorator: Callable[[ViewT], ViewT] = flask_jwt_extended.jwt_required(
        fresh=fresh, refresh=refresh, verify_type=verify_type
    )
    return decorator
