"""A test-only Flask blueprint that reports what a request looked like from inside Flask.

It is registered on the real legacy app (``legacy_flask.create_app``) so the mount tests see
the same Flask configuration and error handlers as production traffic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, redirect, request, stream_with_context, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from tests.forked import SHARED

STEP_TIMEOUT = 10.0


@dataclass
class ProbeState:
    """Shared between the views (on the gateway's threads or in its legacy processes) and
    the test that drives them."""

    # The streaming view waits for one release per chunk after the first.
    stream_steps: Any = field(default_factory=lambda: SHARED.Semaphore(0))
    # What a body-reading view saw, for requests whose client is gone before the answer.
    bodies: Any = field(default_factory=SHARED.Queue)


def _digest(data: bytes) -> dict[str, Any]:
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def probe_blueprint(state: ProbeState) -> Blueprint:
    bp = Blueprint("probe", __name__, url_prefix="/_probe")

    @bp.get("/urls")
    def urls() -> dict[str, Any]:
        return {
            "relative": url_for("probe.target"),
            "external": url_for("probe.target", _external=True),
            "script_root": request.script_root,
            "path": request.path,
        }

    @bp.get("/redirect")
    def go_elsewhere() -> BaseResponse:
        return redirect(url_for("probe.target"))

    @bp.get("/target")
    def target() -> dict[str, Any]:
        return {"reached": request.path}

    @bp.get("/hello")
    def hello() -> Response:
        return Response("hello from flask\n", mimetype="text/plain", headers={"X-Probe": "yes"})

    @bp.get("/cookies/set")
    def set_cookies() -> Response:
        response = Response("set", mimetype="text/plain")
        response.set_cookie("flavour", "oatmeal")
        response.set_cookie("session_hint", "abc123", httponly=True, samesite="Lax")
        return response

    @bp.get("/cookies")
    def show_cookies() -> dict[str, Any]:
        return {"cookies": dict(request.cookies)}

    @bp.get("/stream")
    def stream() -> Response:
        count = int(request.args["n"])

        def generate() -> Iterator[bytes]:
            for index in range(count):
                if index and not state.stream_steps.acquire(timeout=STEP_TIMEOUT):
                    yield b"the test never asked for the next chunk\n"
                    return
                yield f"chunk {index}\n".encode()

        return Response(stream_with_context(generate()), mimetype="text/plain")

    @bp.post("/upload")
    def upload() -> dict[str, Any]:
        return {
            "form": request.form.to_dict(flat=False),
            "files": {
                name: {
                    "filename": part.filename,
                    "content_type": part.mimetype,
                    **_digest(part.read()),
                }
                for name, part in request.files.items()
            },
        }

    @bp.get("/query")
    def query() -> dict[str, Any]:
        return {
            "args": request.args.to_dict(flat=False),
            "query_string": request.query_string.decode("latin-1"),
        }

    @bp.get("/boom")
    def boom() -> Response:
        raise RuntimeError("a bug in a legacy view")

    @bp.post("/echo")
    def echo() -> dict[str, Any]:
        data = request.get_data()
        return {**_digest(data), "content_length": request.content_length}

    @bp.post("/record")
    def record() -> dict[str, Any]:
        try:
            data = request.get_data()
        except HTTPException as exc:
            state.bodies.put(("error", exc.code or 0))
            raise
        state.bodies.put(("ok", len(data)))
        return _digest(data)

    @bp.get("/log")
    def log() -> Response:
        errors = request.environ["wsgi.errors"]
        errors.write(f"{request.args['marker']}\n")
        errors.flush()
        return Response("logged", mimetype="text/plain")

    return bp
