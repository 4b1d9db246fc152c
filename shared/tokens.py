"""The one token core: issue and verify Conduit JWTs (HS256) with rotatable keys.

Each token names its key in the ``kid`` header. The current key signs; previous keys
listed in the settings still verify until an operator removes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt

from shared.errors import Unauthorized
from shared.settings import JWTSettings
from shared.timefmt import utcnow

ALGORITHM = "HS256"
_REQUIRED = ["exp", "iat", "sub", "iss", "aud"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    kid: str


class TokenCore:
    def __init__(self, settings: JWTSettings) -> None:
        if settings.secret is None:
            raise ValueError("JWT settings carry no secret")
        self.settings = settings
        self._keys = {kid: key.get_secret_value() for kid, key in settings.previous_keys.items()}
        self._keys[settings.kid] = settings.secret.get_secret_value()

    def issue(self, user_id: int) -> str:
        now = utcnow()
        claims = {
            "sub": str(user_id),
            "iat": now,
            "exp": now + timedelta(seconds=self.settings.ttl_seconds),
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
        }
        key = self._keys[self.settings.kid]
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": self.settings.kid})

    def verify(self, token: str) -> TokenClaims:
        """Return the claims of a valid token or raise :class:`Unauthorized`."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None or not isinstance(kid, str):
                raise Unauthorized("is signed with an unknown key")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("is invalid") from exc
        try:
            user_id = int(claims["sub"])
        except (TypeError, ValueError) as exc:
            raise Unauthorized("is invalid") from exc
        return TokenClaims(user_id=user_id, kid=kid)


AUTH_SCHEMES = ("token", "bearer")


def token_from_header(value: str | None, *, schemes: tuple[str, ...] = AUTH_SCHEMES) -> str | None:
    """Extract the token from ``Authorization: Token <jwt>`` (or another allowed scheme).

    Returns None when there is no header; raises Unauthorized when it is malformed.
    """
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() not in schemes or not token.strip():
        raise Unauthorized("must be sent as 'Authorization: Token <jwt>'")
    return token.strip()
