"""Every v2 error in Conduit's shape: ``{"errors": {field: [msg]}}``, never ``{"detail": ...}``.

Pydantic reports where a value failed (``loc``) and why (``type``); this maps both onto the
field names and messages the legacy marshmallow schemas produce, so the two sides agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from shared import rules
from shared.db import unavailable
from shared.errors import ConduitError, Unavailable
from v2.responses import ConduitJSONResponse

logger = logging.getLogger(__name__)

# The custom error type raised by v2.schemas' validators; its message is already final.
RULE_ERROR = "conduit_rule"

_TYPE_MESSAGES = {
    "missing": rules.BLANK,
    "string_type": rules.NOT_STRING,
    "list_type": rules.NOT_STRING_LIST,
    "int_parsing": rules.NOT_INTEGER,
    "int_type": rules.NOT_INTEGER,
    "int_from_float": rules.NOT_INTEGER,
}


def error_response(status: int, errors: Mapping[str, list[str]]) -> ConduitJSONResponse:
    return ConduitJSONResponse({"errors": errors}, status_code=status)


def _locate(error: Mapping[str, Any], *, unreadable_body: bool) -> tuple[str, str]:
    source, *path = error["loc"]
    kind = error["type"]
    if source == "body":
        if unreadable_body or kind == "json_invalid" or not path:
            return "body", rules.NOT_JSON_OBJECT
        if len(path) == 1:  # the envelope itself: {"user": ...}
            if kind == RULE_ERROR:  # a rule on the whole object, such as "no fields given"
                return "body", str(error["msg"])
            return str(path[0]), rules.NOT_OBJECT
        path = path[1:]
    field = str(path[0]) if path else str(source)
    if kind == RULE_ERROR:
        return field, str(error["msg"])
    if error.get("input", "") is None:
        return field, rules.NULL
    return field, _TYPE_MESSAGES.get(kind, str(error["msg"]))


def conduit_errors(
    errors: Iterable[Mapping[str, Any]], *, unreadable_body: bool = False
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    said: set[tuple[Any, ...]] = set()
    for error in errors:
        field, message = _locate(error, unreadable_body=unreadable_body)
        messages = found.setdefault(field, [])
        # Once per place, as the legacy app says it: two tags with the same problem are
        # two messages there, one tag failing two ways is one.
        place = (*error.get("loc", ()), message)
        if place not in said:
            said.add(place)
            messages.append(message)
    return found


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _validation_error(request: Request, exc: Exception) -> ConduitJSONResponse:
    assert isinstance(exc, RequestValidationError)
    # FastAPI hands a non-JSON or empty body to the model as it is; say so plainly.
    content_type = request.headers.get("content-type")
    unreadable = request.method in {"POST", "PUT", "PATCH"} and (
        not await request.body() or (content_type is not None and not _is_json(content_type))
    )
    return error_response(422, conduit_errors(exc.errors(), unreadable_body=unreadable))


async def _conduit_error(_request: Request, exc: Exception) -> ConduitJSONResponse:
    assert isinstance(exc, ConduitError)
    return error_response(exc.status_code, exc.errors)


async def _http_error(_request: Request, exc: Exception) -> ConduitJSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # A body FastAPI could not parse (not UTF-8, nested past the parser's depth): the
        # legacy app's answer to any unreadable body.
        return error_response(422, {"body": [rules.NOT_JSON_OBJECT]})
    response = error_response(exc.status_code, {"request": [_phrase(exc.status_code)]})
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _database_error(request: Request, exc: Exception) -> ConduitJSONResponse:
    if not unavailable(exc):
        return await _unexpected(request, exc)
    logger.warning("database unavailable: %s", exc)
    error = Unavailable()
    response = error_response(error.status_code, error.errors)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _unexpected(_request: Request, exc: Exception) -> ConduitJSONResponse:
    logger.error("unhandled error in a v2 route", exc_info=exc)
    return error_response(500, {"server": ["internal error"]})


def _phrase(status: int) -> str:
    """The legacy app's words for an HTTP error: the status' name, lower-cased."""
    return "internal error" if status == 500 else HTTPStatus(status).phrase.lower()


def gateway_error(status: int, detail: str) -> ConduitJSONResponse:
    """Errors the gateway answers itself, in Conduit's shape (its ``errors`` option): the
    same words the legacy app uses for the status, whatever the gateway's ``detail``."""
    return error_response(status, {"server" if status >= 500 else "request": [_phrase(status)]})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ConduitError, _conduit_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
