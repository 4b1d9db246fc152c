"""A Flask request context standing for a Starlette request, so Flask extensions run unchanged;
and the cookies they set on a Flask response carried over to a Starlette one.

    with flask_request_context(legacy_app, request) as ctx:
        ctx.session          # opened by the app's own session interface
        verify_jwt_in_request()

Pushing the context runs what Flask runs for any request (the session is opened, the URL
matched against the legacy app, teardown callbacks run on exit) but no view and no
``before_request``/``after_request`` hook.
"""

from __future__ import annotations

from flask import Flask
from flask import Response as FlaskResponse
from flask.ctx import RequestContext
from starlette.requests import Request
from starlette.responses import Response

# The builder sets these from the body it is given, and the Host from ``base_url``.
_REBUILT_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})


def flask_request_context(
    app: Flask, request: Request, *, body: bytes | None = None
) -> RequestContext:
    """A request context of ``app`` with the method, URL, headers and client of ``request``.

    ``body`` is the request body when the caller has read it (Flask reads it lazily, which an
    async request cannot offer); without it the Flask request has an empty body.
    """
    url = request.url
    headers = [(k, v) for k, v in request.headers.items() if k not in _REBUILT_HEADERS]
    environ_base = {"REMOTE_ADDR": request.client.host} if request.client else {}
    return app.test_request_context(
        path=request.scope.get("raw_path", url.path.encode()).decode("latin-1"),
        base_url=f"{url.scheme}://{url.netloc}",
        method=request.method,
        headers=headers,
        query_string=request.scope.get("query_string", b"").decode("latin-1"),
        data=body,
        environ_base=environ_base,
    )


def copy_set_cookies(flask_response: FlaskResponse, response: Response) -> None:
    """The cookies Flask (or an extension) set on ``flask_response``, set on ``response``."""
    for cookie in flask_response.headers.getlist("Set-Cookie"):
        response.headers.append("set-cookie", cookie)
