"""Every error leaves the legacy app in Conduit's shape: ``{"errors": {field: [msg]}}``."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from shared import rules
from shared.db import unavailable
from shared.errors import ConduitError, Unavailable


def error_response(status: int, errors: dict[str, list[str]]) -> tuple[Response, int]:
    return jsonify({"errors": errors}), status


def flatten_messages(messages: Any) -> dict[str, list[str]]:
    """marshmallow nests errors for list items and nested schemas; Conduit wants one level."""
    if not isinstance(messages, dict):
        return {"body": _as_list(messages)}
    return {str(field): _as_list(value) for field, value in messages.items()}


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [msg for nested in value.values() for msg in _as_list(nested)]
    if isinstance(value, list | tuple):
        return [msg for item in value for msg in _as_list(item)]
    return [str(value)]


def _storable_path(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    # A path value no row can hold (NUL, an unpaired surrogate) names nothing: not found,
    # before any query would fail on it.
    if values and any(isinstance(v, str) and rules.character_problem(v) for v in values.values()):
        raise NotFound()


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_storable_path)

    @app.errorhandler(ConduitError)
    def _conduit_error(exc: ConduitError) -> tuple[Response, int]:
        return error_response(exc.status_code, exc.errors)

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError) -> tuple[Response, int]:
        return error_response(422, flatten_messages(exc.messages))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        name = (exc.name or "error").lower()
        response, status = error_response(status, {"request": [name]})
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response, status

    @app.errorhandler(SQLAlchemyError)
    def _database_error(exc: SQLAlchemyError) -> tuple[Response, int]:
        if not unavailable(exc):
            return _unexpected(exc)
        app.logger.warning("database unavailable: %s", exc)
        error = Unavailable()
        response, status = error_response(error.status_code, error.errors)
        response.headers["Retry-After"] = str(error.retry_after)
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        app.logger.exception("unhandled error in a legacy view")
        return error_response(500, {"server": ["internal error"]})
