"""The operator's token: who may read ``/metrics``, and whose requests are not a client's.

It is presented as ``Authorization: Bearer <token>`` (what Prometheus sends from a scrape
config's ``authorization``) or, on a request that carries an application credential of its
own in ``Authorization``, as ``X-Gateway-Admin-Token``. It is compared in constant time, and
a request that presents it has it taken out before either side sees the request: the token is
the gateway's, and an app would only log it.
"""

from __future__ import annotations

import hmac

from starlette.types import Scope

ADMIN_HEADER = b"x-gateway-admin-token"
_AUTHORIZATION = b"authorization"
_BEARER = b"bearer "


class AdminToken:
    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def matches(self, presented: bytes) -> bool:
        return hmac.compare_digest(presented, self._token)

    def presented(self, scope: Scope) -> bool:
        """Whether the request carries the token, in either header."""
        return self._carrier(scope["headers"]) is not None

    def without_token(self, scope: Scope) -> Scope | None:
        """The request as the sides see it, without the header that carried the token; None
        when it carries none (the request is a client's)."""
        headers = scope["headers"]
        index = self._carrier(headers)
        if index is None:
            return None
        return {**scope, "headers": [*headers[:index], *headers[index + 1 :]]}

    def _carrier(self, headers: list[tuple[bytes, bytes]]) -> int | None:
        for index, (name, value) in enumerate(headers):
            if name == ADMIN_HEADER:
                candidate = value
            elif name == _AUTHORIZATION and value[:7].lower() == _BEARER:
                candidate = value[7:].strip()
            else:
                continue
            if self.matches(candidate):
                return index
        return None
