"""The legacy Flask app's signed cookie session, and Flask-Login's user in it, on FastAPI.

Reading and writing both go through the app's own ``SecureCookieSessionInterface``: the same
secret key (and ``SECRET_KEY_FALLBACKS``), salt, serializer, cookie name and attributes and
``PERMANENT_SESSION_LIFETIME``, so a cookie written by either side is read by the other.

    sessions = FlaskSessionBridge(legacy_app)
    FlaskSession = Annotated[SecureCookieSession, Depends(sessions.load)]

    @router.get("/me")
    def me(session: FlaskSession) -> dict[str, str | None]:
        return {"user_id": sessions.user_id(session)}

    @router.post("/logout")
    def logout(session: FlaskSession, response: Response) -> None:
        session.clear()
        sessions.save(session, response)  # deletes the cookie, as Flask would

A bad or expired signature reads as an empty session, as in Flask. Nothing is written unless
the route calls ``save``, which does what Flask does at the end of every request: sets the
cookie if the session changed (or is permanent, with ``SESSION_REFRESH_EACH_REQUEST``),
deletes it if the session was emptied, and adds ``Vary: Cookie``. So call it in every route
that uses the session, also those that only read it.

Flask-Login: ``user_id`` is the id ``login_user`` stored. When the app has a ``LoginManager``,
``load`` applies its session protection with Flask-Login's own check, run in a Flask request
context made from the request (the client address, or ``X-Forwarded-For``, and
``User-Agent`` are what it compares): in "basic" mode a session from another client is marked
not fresh, in "strong" mode (unless permanent) it is logged out, as the legacy app would do.
The change reaches the cookie when the route calls ``save``. Not read: the remember-me cookie
(a user only remembered is anonymous here until the legacy app restores the session) and
request or header loaders, which need the app's user objects.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from starlette.requests import Request
from starlette.responses import Response

from gateway.bridges._flask_context import copy_set_cookies, flask_request_context


class FlaskSessionBridge:
    """Load, save and read the Flask session of ``app`` from Starlette requests."""

    def __init__(self, app: Flask) -> None:
        interface = app.session_interface
        if not isinstance(interface, SecureCookieSessionInterface):
            raise TypeError(
                f"FlaskSessionBridge reads Flask's signed cookie session, but {app.name!r} "
                f"stores sessions with {type(interface).__qualname__}; bridge that store instead"
            )
        self.app = app
        self.interface: SecureCookieSessionInterface = interface

    def load(self, request: Request) -> SecureCookieSession:
        """The session the request's cookie carries (usable as ``Depends(bridge.load)``)."""
        # Pushing the context opens the session with the app's interface, as for a Flask view.
        with flask_request_context(self.app, request) as ctx:
            session = ctx.session  # marks it accessed: the answer varies with the cookie
            login_manager: Any = getattr(self.app, "login_manager", None)
            if login_manager is not None:
                # Flask-Login's own check, on this context's request and session.
                login_manager._session_protection_failed()
        # SecureCookieSessionInterface opens its session_class, a SecureCookieSession.
        return cast(SecureCookieSession, session)

    def save(self, session: SecureCookieSession, response: Response) -> None:
        """Write ``session`` to ``response`` as Flask does at the end of a request.

        Flask's own ``save_session`` runs on a scratch Flask response and its ``Set-Cookie``
        and ``Vary`` headers are copied over, so the cookie is byte for byte the one the
        legacy app would set (or delete).
        """
        if self.interface.is_null_session(session):
            return  # no SECRET_KEY: Flask does not save either
        with self.app.app_context():  # for MAX_COOKIE_SIZE
            scratch = self.app.response_class()
            self.interface.save_session(self.app, session, scratch)
        copy_set_cookies(scratch, response)
        present = {
            v.strip().lower() for h in response.headers.getlist("vary") for v in h.split(",")
        }
        for vary in scratch.vary:
            if vary.lower() not in present:
                response.headers.add_vary_header(vary)

    def user_id(self, session: SecureCookieSession) -> str | None:
        """The id of the user Flask-Login logged in, or None for an anonymous session."""
        user_id = session.get("_user_id")
        return None if user_id is None else str(user_id)
