"""Notes: a small Flask app with HTML pages, a session login, forms and a JWT-protected JSON API.

It is built the way Flask's tutorial and the extensions' own docs build apps, and imports
nothing from the gateway's repository: ``flask --app notes_app run`` serves it alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

# PyJWT warns about HS256 keys shorter than 32 bytes, even in development.
_DEV_JWT_SECRET_KEY = "dev-only-notes-jwt-secret-change-me"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``NOTES_*`` environment variables, then ``test_config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev",
        JWT_SECRET_KEY=_DEV_JWT_SECRET_KEY,
        # Relative, so Flask-SQLAlchemy keeps the file in the instance folder.
        SQLALCHEMY_DATABASE_URI="sqlite:///notes.db",
        JWT_TOKEN_LOCATION=["headers", "cookies"],
        # flask-smorest's key, which OpenAPI tools read for components the views refer to.
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            }
        },
    )
    app.config.from_prefixed_env("NOTES")
    if test_config is not None:
        app.config.from_mapping(test_config)

    # Imported here, as in Flask's tutorial: the modules import each other, never this factory.
    from notes_app import api, auth, cli, pages
    from notes_app.db import db
    from notes_app.forms import csrf
    from notes_app.tokens import jwt

    db.init_app(app)
    csrf.init_app(app)
    # The API authenticates with JWTs, whose cookies carry their own double-submit CSRF check.
    csrf.exempt(api.bp)
    jwt.init_app(app)
    auth.login_manager.init_app(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.cli.add_command(cli.init_db_command)
    return app
