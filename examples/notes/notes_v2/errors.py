"""Errors in the legacy API's shape: ``{"msg": ...}`` (flask-jwt-extended's own)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

# marshmallow's message for a missing field, which the legacy API answers.
MISSING = "Missing data for required field."
# marshmallow's messages for the other problems Pydantic finds, by Pydantic's error type.
MESSAGES = {
    "missing": MISSING,
    "extra_forbidden": "Unknown field.",
    "string_type": "Not a valid string.",
}


class NotFound(HTTPException):
    def __init__(self, what: str) -> None:
        super().__init__(404, f"{what} not found")


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"msg": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        field = str(error["loc"][-1]) if len(error["loc"]) > 1 else "_schema"
        if error["type"] == "value_error":  # a rule of the schema's own: its message as is
            message = str(error["ctx"]["error"])
        else:
            message = MESSAGES.get(error["type"], str(error["msg"]))
        errors.setdefault(field, []).append(message)
    return JSONResponse({"msg": "Invalid request body", "errors": errors}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
