"""Reading Conduit's request envelopes (``{"user": {...}}``, ``{"article": {...}}``)."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from shared import rules
from shared.errors import ValidationFailed


def load_envelope(key: str, schema: Schema) -> dict[str, Any]:
    # A body without a content type is read as JSON (old clients omit it); a body that says
    # it is something else is not.
    if request.content_type and not request.is_json:
        raise ValidationFailed.on("body", rules.NOT_JSON_OBJECT)
    try:
        payload = request.get_json(force=True, silent=True)
    except RecursionError:  # nested deeper than the parser goes: as unreadable as bad JSON
        payload = None
    if payload is None:
        raise ValidationFailed.on("body", rules.NOT_JSON_OBJECT)
    if not isinstance(payload, dict) or not isinstance(payload.get(key), dict):
        raise ValidationFailed.on(key, rules.NOT_OBJECT)
    data: dict[str, Any] = schema.load(payload[key])
    return data
