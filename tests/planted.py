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


def notes() -> Flask:
    """The notes example's legacy app, as its manifest builds it (NOTES_* variables), planted."""
    from notes_app import create_app  # found on the path the notes tests put its folder on

    return plant(create_app())
