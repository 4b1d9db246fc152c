"""flask-jwt-extended tokens on FastAPI, verified and issued by the legacy app's own JWTManager.

Verification is flask-jwt-extended's ``verify_jwt_in_request`` itself, run in a Flask request
context made from the Starlette request. So everything the legacy app configured applies
unchanged: keys and algorithms, identity claim, audience, issuer, leeway, header name and
type, token locations, cookie CSRF double submit, fresh and refresh tokens, and its callbacks
(blocklist, user lookup, decode key, claims verification). A refusal is answered with the
legacy app's own error response for it, its error handlers included.

    auth = FlaskJWTBridge(legacy_app)
    auth.install(app)  # answers refusals byte for byte as the legacy app does
    Claims = Annotated[dict[str, Any], Depends(auth.required())]
    FreshClaims = Annotated[dict[str, Any], Depends(auth.required(fresh=True))]

    @router.get("/me")
    async def me(claims: Claims) -> dict[str, Any]:
        return {"user_id": auth.identity(claims)}

    @router.post("/login")
    def login(body: LoginIn, response: Response) -> dict[str, str]:
        user = check_password(body)
        token = auth.create_access_token(str(user.id), fresh=True)
        auth.set_access_cookies(response, token)
        return {"access_token": token}

Verification runs in a worker thread: the app's callbacks may query a database. Issuing runs
inline, with the app's additional-claims and identity callbacks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import flask_jwt_extended as fjwt
from fastapi import FastAPI
from flask import Flask
from flask import Response as FlaskResponse
from flask_jwt_extended.config import config as jwt_config
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gateway.bridges._flask_context import copy_set_cookies, flask_request_context
from gateway.bridges.answers import ExactAnswer, answer_exactly


class LegacyAuthError(ExactAnswer):
    """A token refused; carries the legacy app's response for that refusal."""


class FlaskJWTBridge:
    """Verify and issue the JWTs of a Flask app that has a flask-jwt-extended ``JWTManager``."""

    def __init__(self, app: Flask) -> None:
        if "flask-jwt-extended" not in app.extensions:
            raise TypeError(f"{app.name!r} has no flask-jwt-extended JWTManager")
        self.app = app

    def install(self, app: FastAPI) -> None:
        """Answer refusals on ``app`` with the legacy app's exact body, type and headers."""
        answer_exactly(app)

    def required(
        self,
        *,
        optional: bool = False,
        fresh: bool = False,
        refresh: bool = False,
        locations: Sequence[str] | None = None,
    ) -> Callable[..., Awaitable[dict[str, Any] | None]]:
        """A dependency giving the verified claims, like ``@jwt_required(...)`` on a view.

        None when ``optional`` and the request has no token (and for ``JWT_EXEMPT_METHODS``
        such as OPTIONS, which the library lets through unverified). Raises LegacyAuthError.
        """
        with self.app.app_context():
            searched = list(locations or jwt_config.token_location)
            form_csrf = jwt_config.csrf_check_form
            csrf_methods = set(jwt_config.csrf_request_methods)

        def needs_body(request: Request) -> bool:
            # Flask reads the body lazily; here it must be read before going to the thread,
            # and only where the library will look at it.
            if (
                "content-length" not in request.headers
                and "transfer-encoding" not in request.headers
            ):
                return False
            return "json" in searched or (
                "cookies" in searched and form_csrf and request.method in csrf_methods
            )

        async def verified_claims(request: Request) -> dict[str, Any] | None:
            body = await request.body() if needs_body(request) else None
            return await run_in_threadpool(
                self._verify,
                request,
                body,
                optional=optional,
                fresh=fresh,
                refresh=refresh,
                locations=list(locations) if locations else None,
            )

        return verified_claims

    def _verify(
        self, request: Request, body: bytes | None, **options: Any
    ) -> dict[str, Any] | None:
        with flask_request_context(self.app, request, body=body):
            try:
                if fjwt.verify_jwt_in_request(**options) is None:
                    return None
                claims: dict[str, Any] = fjwt.get_jwt()
                return claims
            except Exception as exc:
                # The legacy app's handler for it (flask-jwt-extended's, or the team's own); one
                # it has no handler for is re-raised here by Flask, as in a legacy view.
                answer = self.app.make_response(self.app.handle_user_exception(exc))
                raise _error_from(answer) from exc

    def identity(self, claims: Mapping[str, Any]) -> Any:
        """The identity in ``claims`` (the ``JWT_IDENTITY_CLAIM`` claim, ``sub`` by default)."""
        with self.app.app_context():
            return claims[jwt_config.identity_claim_key]

    def create_access_token(
        self,
        identity: Any,
        *,
        fresh: bool | timedelta = False,
        additional_claims: Mapping[str, Any] | None = None,
        expires_delta: timedelta | None = None,
    ) -> str:
        """An access token exactly as the legacy app's ``create_access_token`` makes it."""
        with self.app.app_context():
            token: str = fjwt.create_access_token(
                identity,
                fresh=fresh,
                expires_delta=expires_delta,
                additional_claims=dict(additional_claims) if additional_claims else None,
            )
        return token

    def create_refresh_token(
        self,
        identity: Any,
        *,
        additional_claims: Mapping[str, Any] | None = None,
        expires_delta: timedelta | None = None,
    ) -> str:
        """A refresh token exactly as the legacy app's ``create_refresh_token`` makes it."""
        with self.app.app_context():
            token: str = fjwt.create_refresh_token(
                identity,
                expires_delta=expires_delta,
                additional_claims=dict(additional_claims) if additional_claims else None,
            )
        return token

    def set_access_cookies(
        self, response: Response, token: str, max_age: int | None = None, domain: str | None = None
    ) -> None:
        """The access token cookie (and its CSRF cookie), as ``set_access_cookies`` sets them."""
        self._copy_cookies(response, fjwt.set_access_cookies, token, max_age, domain)

    def set_refresh_cookies(
        self, response: Response, token: str, max_age: int | None = None, domain: str | None = None
    ) -> None:
        """The refresh token cookie (and its CSRF cookie), as ``set_refresh_cookies`` does."""
        self._copy_cookies(response, fjwt.set_refresh_cookies, token, max_age, domain)

    def unset_jwt_cookies(self, response: Response, domain: str | None = None) -> None:
        """Delete every JWT and CSRF cookie, as ``unset_jwt_cookies`` does."""
        self._copy_cookies(response, fjwt.unset_jwt_cookies, domain)

    def _copy_cookies(
        self, response: Response, library_call: Callable[..., None], *args: Any
    ) -> None:
        # The library writes on a Flask response; its Set-Cookie headers are carried over.
        with self.app.app_context():
            scratch = self.app.response_class()
            library_call(scratch, *args)
        copy_set_cookies(scratch, response)


def _error_from(answer: FlaskResponse) -> LegacyAuthError:
    return LegacyAuthError(answer.status_code, answer.get_data(), list(answer.headers.items()))
