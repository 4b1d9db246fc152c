"""Who a canary user is: the key that keeps one client on one side of a canary module.

Strategies (the ``sticky`` option):

- ``address`` (default): the client's IP address;
- ``bearer-sub``: the ``sub`` claim of the JWT in ``Authorization: <scheme> <jwt>``; verified
  with ``sticky_jwt_key`` when one is set, otherwise read unverified. Unverified is safe
  for this use only: the key merely chooses which side answers, and both sides still
  authenticate the request themselves, so a forged subject can move its sender between
  sides and gain nothing else;
- ``header:<name>`` / ``cookie:<name>``: that header's or cookie's value;
- an import string to a function ``(HTTPConnection) -> str | None``.

Whenever the strategy finds no key, the client's address is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jwt
from starlette.requests import HTTPConnection
from starlette.types import Scope

from gateway.config.configuration import Config
from gateway.config.errors import ConfigError
from gateway.config.loading import resolve_option

StickyKey = Callable[[Scope], str]
KeyFunction = Callable[[HTTPConnection], str | None]


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return f"addr:{client[0]}" if client else "addr:unknown"


def _falling_back(find: Callable[[HTTPConnection], str | None], label: str) -> StickyKey:
    def key(scope: Scope) -> str:
        found = find(HTTPConnection(scope))
        return f"{label}:{found}" if found else client_address(scope)

    return key


def header(name: str) -> StickyKey:
    return _falling_back(lambda conn: conn.headers.get(name), f"header:{name.lower()}")


def cookie(name: str) -> StickyKey:
    return _falling_back(lambda conn: conn.cookies.get(name), f"cookie:{name}")


def bearer_subject(key: str | None, algorithms: Sequence[str]) -> StickyKey:
    def subject(conn: HTTPConnection) -> str | None:
        _scheme, _, token = conn.headers.get("authorization", "").strip().partition(" ")
        if not token.strip():
            return None
        try:
            if key is None:
                claims: dict[str, Any] = jwt.decode(
                    token.strip(), options={"verify_signature": False}
                )
            else:
                claims = jwt.decode(
                    token.strip(),
                    key,
                    algorithms=list(algorithms),
                    options={"verify_aud": False, "verify_iss": False},
                )
        except jwt.PyJWTError:
            return None  # a bad token is the answering side's business
        sub = claims.get("sub")
        return str(sub) if isinstance(sub, str | int) else None

    return _falling_back(subject, "sub")


def from_function(function: KeyFunction) -> StickyKey:
    return _falling_back(function, "fn")


def sticky_key(config: Config) -> StickyKey:
    """The strategy the ``sticky`` option names."""
    options = config.options
    strategy = options.sticky
    if strategy == "address":
        return client_address
    if strategy == "bearer-sub":
        key = options.sticky_jwt_key.get_secret_value() if options.sticky_jwt_key else None
        return bearer_subject(key, options.sticky_jwt_algorithms)
    kind, _, name = strategy.partition(":")
    if kind in ("header", "cookie") and name.strip():
        return header(name.strip()) if kind == "header" else cookie(name.strip())
    if ":" not in strategy:
        raise ConfigError(
            [
                f"{config.place('sticky')}: sticky = {strategy!r}: expected address, bearer-sub, "
                "header:<name>, cookie:<name> or 'module:function'"
            ]
        )
    return from_function(resolve_option(config, "sticky", callable, "a function of the request"))
