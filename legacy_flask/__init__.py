"""The legacy Conduit backend, as a Flask team would have written it.

It runs alone (``flask --app legacy_flask run``) and knows nothing of the gateway.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from shared.db import Database
from shared.settings import Settings, get_settings
from shared.tokens import TokenCore


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": "ErrorsSchema"}}}


OPENAPI_COMPONENTS = {
    "securitySchemes": {
        "Token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <jwt>`",
        }
    },
    # The errors every view may answer, referred to by name from the views' docstrings.
    "responses": {
        "Unauthorized": _error("Missing or bad token"),
        "Forbidden": _error("Not the author"),
        "NotFound": _error("Not found"),
        "Conflict": _error("Username or email taken"),
        "Invalid": _error("Invalid input"),
    },
}


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Flask:
    """Build the app. The gateway passes its own ``database`` so both sides share engines."""
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # Where a tool (the gateway, a migration script) finds this app's database.
    app.config["DATABASE_URL"] = settings.database.url
    # Shared OpenAPI components the views' docstrings refer to (flask-smorest's key).
    app.config["API_SPEC_OPTIONS"] = {"components": OPENAPI_COMPONENTS}
    app.json.mimetype = "application/json; charset=utf-8"  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    owns_database = database is None
    app.extensions["conduit"] = {
        "settings": settings,
        "database": database or Database(settings.database),
        "tokens": TokenCore(settings.jwt),
        "owns_database": owns_database,
    }

    from legacy_flask import db, errors
    from legacy_flask.blueprints import articles, comments, profiles, tags, users

    db.init_app(app)
    errors.init_app(app)
    for blueprint in (users.bp, profiles.bp, articles.bp, comments.bp, tags.bp):
        app.register_blueprint(blueprint)
    return app
