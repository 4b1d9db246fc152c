"""marshmallow schemas of the JSON API; views' apispec docstrings name them by class."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

# No database stores a NUL character in text (PostgreSQL refuses it): a 422, not a 500.
NUL_MESSAGE = "Must not contain NUL characters."


def without_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError(NUL_MESSAGE)


class NoteSchema(Schema):
    id = fields.Int(dump_only=True)
    title = fields.Str()
    body = fields.Str()
    created_at = fields.DateTime(dump_only=True)


class NewNoteSchema(Schema):
    title = fields.Str(required=True, validate=[validate.Length(min=1, max=200), without_nul])
    body = fields.Str(load_default="", validate=without_nul)


class TokenRequestSchema(Schema):
    username = fields.Str(required=True)
    password = fields.Str(required=True)


class TokenSchema(Schema):
    access_token = fields.Str(required=True)
    # Only signing in issues a refresh token; refreshing does not.
    refresh_token = fields.Str()


class MessageSchema(Schema):
    """Every error of the API, in flask-jwt-extended's shape (``{"msg": ...}``)."""

    msg = fields.Str(required=True)
    errors = fields.Dict(keys=fields.Str())


note_schema = NoteSchema()
notes_schema = NoteSchema(many=True)
new_note_schema = NewNoteSchema()
token_request_schema = TokenRequestSchema()
token_schema = TokenSchema()
message_schema = MessageSchema()
