"""Legacy apps planted with noise: a random field and a moving timestamp on every JSON answer.

``nonce`` is a fresh UUID and ``servedAt`` the moment of the answer, added to each JSON object
an app answers, so that two answers to one request differ there and nowhere else.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from flask import Flask, Response


def plant(app: Flask) -> Flask:
    @app.after_request
    def planted(response: Response) -> Response:
        body = response.get_json(silent=True) if response.is_json else None
        if isinstance(body, dict):
            body["nonce"] = str(uuid.uuid4())
            body["servedAt"] = datetime.now(UTC).isoformat(timespec="microseconds")
            response.set_data(json.dumps(body))
        return response

    return app


# Every notes app built here, until its test lets go of its connections (dispose_notes).
NOTES_BUILT: list[Flask] = []


def notes() -> Flask:
    """The notes example's legacy app, as its manifest builds it (NOTES_* variables), planted."""
    from notes_app import create_app  # found on the path the notes tests put its folder on

    app = plant(create_app())
    NOTES_BUILT.append(app)
    return app


def dispose_notes() -> None:
    """Close the pooled connections of the notes apps built (a command that built one, run
    in the test's process, leaves them to the garbage collector)."""
    while NOTES_BUILT:
        app = NOTES_BUILT.pop()
        with app.app_context():
            for engine in app.extensions["sqlalchemy"].engines.values():
                engine.dispose()
