"""Reading Conduit's request envelopes (``{"user": {...}}``, ``{"article": {...}}``)."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from shared.errors import ValidationFailed


def load_envelope(key: str, schema: Schema) -> dict[str, Any]:
    # force=True: old clients do not always send a JSON content type; parse regardless.
    payload = request.get_json(force=True, silent=True)
    if payload is None:
        raise ValidationFailed.on("body", "must be a JSON object")
    if not isinstance(payload, dict) or not isinstance(payload.get(key), dict):
        raise ValidationFailed.on(key, "must be an object")
    data: dict[str, Any] = schema.load(payload[key])
    return data
