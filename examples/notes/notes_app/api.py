"""The JSON API under /api: tokens (flask-jwt-extended) and the caller's notes.

Each view's docstring is its OpenAPI description in apispec's YAML: a summary line, then
``---``, then the operation per method, naming the marshmallow schemas by class.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    get_jwt,
    get_jwt_identity,
    set_access_cookies,
    set_refresh_cookies,
    unset_access_cookies,
    unset_refresh_cookies,
)
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from notes_app.db import db
from notes_app.guards import jwt_required
from notes_app.models import Note, RevokedToken, User, notes_of, own_note_or_404
from notes_app.schemas import (
    message_schema,
    new_note_schema,
    note_schema,
    notes_schema,
    token_request_schema,
    token_schema,
)

bp = Blueprint("api", __name__, url_prefix="/api")


def _in_api(path: str) -> bool:
    prefix = bp.url_prefix or ""
    return path == prefix or path.startswith(prefix + "/")


@bp.app_errorhandler(HTTPException)
def json_http_errors(error: HTTPException) -> ResponseReturnValue:
    """Errors under /api in JSON; the HTML pages keep Flask's HTML error pages."""
    # App-wide, not on the blueprint: a path under /api that matches no rule (404, 405)
    # belongs to no blueprint, yet its client still expects JSON.
    if not _in_api(request.path):
        return error
    return message_schema.dump({"msg": error.description}), error.code or 500


@bp.errorhandler(ValidationError)
def invalid_body(error: ValidationError) -> ResponseReturnValue:
    return message_schema.dump({"msg": "Invalid request body", "errors": error.messages}), 422


def _body() -> Any:
    # Not JSON at all: Flask answers 415 or 400, which json_http_errors turns into JSON.
    return request.get_json()


def _caller_id() -> int:
    return int(get_jwt_identity())


@bp.post("/token")
def create_token() -> ResponseReturnValue:
    """Sign in: a fresh access token and a refresh token for a username and password.
    ---
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: TokenRequestSchema
      responses:
        200:
          description: The tokens, also set as cookies (with their CSRF cookies)
          content:
            application/json:
              schema: TokenSchema
        401:
          description: Wrong username or password
          content:
            application/json:
              schema: MessageSchema
        422:
          description: The body lacks a username or a password
          content:
            application/json:
              schema: MessageSchema
    """
    credentials = token_request_schema.load(_body())
    user = db.session.scalar(select(User).where(User.username == credentials["username"]))
    if user is None or not user.check_password(credentials["password"]):
        return message_schema.dump({"msg": "Bad username or password"}), 401
    identity = str(user.id)
    access_token = create_access_token(identity=identity, fresh=True)
    refresh_token = create_refresh_token(identity=identity)
    response = jsonify(
        token_schema.dump({"access_token": access_token, "refresh_token": refresh_token})
    )
    # For browsers: the same tokens as cookies, which then need the X-CSRF-TOKEN header.
    set_access_cookies(response, access_token)
    set_refresh_cookies(response, refresh_token)
    return response


@bp.post("/token/refresh")
@jwt_required(refresh=True)
def refresh_token() -> ResponseReturnValue:
    """A new access token for a refresh token; not fresh, since no password was given.
    ---
    post:
      security:
        - bearerAuth: []
      responses:
        200:
          description: The new access token, also set as a cookie
          content:
            application/json:
              schema: TokenSchema
        401:
          description: No valid refresh token
          content:
            application/json:
              schema: MessageSchema
    """
    access_token = create_access_token(identity=get_jwt_identity(), fresh=False)
    response = jsonify(token_schema.dump({"access_token": access_token}))
    set_access_cookies(response, access_token)
    return response


@bp.delete("/token")
@jwt_required(verify_type=False)
def revoke_token() -> ResponseReturnValue:
    """Revoke the token this request presents (access or refresh) before it expires.
    ---
    delete:
      security:
        - bearerAuth: []
      responses:
        200:
          description: The token is revoked and its cookie cleared
          content:
            application/json:
              schema: MessageSchema
        401:
          description: No valid token
          content:
            application/json:
              schema: MessageSchema
    """
    claims = get_jwt()
    db.session.add(RevokedToken(jti=claims["jti"], type=claims["type"]))
    db.session.commit()
    response = jsonify(message_schema.dump({"msg": "Token revoked"}))
    if claims["type"] == "refresh":
        unset_refresh_cookies(response)
    else:
        unset_access_cookies(response)
    return response


@bp.get("/notes")
@jwt_required()
def list_notes() -> ResponseReturnValue:
    """The caller's notes, newest first.
    ---
    get:
      security:
        - bearerAuth: []
      responses:
        200:
          description: The notes
          content:
            application/json:
              schema:
                type: object
                properties:
                  notes:
                    type: array
                    items: NoteSchema
        401:
          description: No valid access token
          content:
            application/json:
              schema: MessageSchema
    """
    notes = db.session.scalars(notes_of(_caller_id())).all()
    return {"notes": notes_schema.dump(notes)}


@bp.post("/notes")
@jwt_required()
def create_note() -> ResponseReturnValue:
    """Write a note.
    ---
    post:
      security:
        - bearerAuth: []
      requestBody:
        required: true
        content:
          application/json:
            schema: NewNoteSchema
      responses:
        201:
          description: The note, at the URL in Location
          content:
            application/json:
              schema: NoteSchema
        401:
          description: No valid access token, or no CSRF header with a cookie
          content:
            application/json:
              schema: MessageSchema
        422:
          description: The body is not a note
          content:
            application/json:
              schema: MessageSchema
    """
    fields = new_note_schema.load(_body())
    note = Note(owner_id=_caller_id(), title=fields["title"], body=fields["body"])
    db.session.add(note)
    db.session.commit()
    location = url_for("api.get_note", note_id=note.id)
    return note_schema.dump(note), 201, {"Location": location}


@bp.get("/notes/<int:note_id>")
@jwt_required()
def get_note(note_id: int) -> ResponseReturnValue:
    """One of the caller's notes.
    ---
    get:
      security:
        - bearerAuth: []
      responses:
        200:
          description: The note
          content:
            application/json:
              schema: NoteSchema
        404:
          description: No such note among the caller's
          content:
            application/json:
              schema: MessageSchema
    """
    note = own_note_or_404(owner_id=_caller_id(), note_id=note_id)
    body: dict[str, Any] = note_schema.dump(note)
    return body


@bp.delete("/notes/<int:note_id>")
@jwt_required(fresh=True)
def delete_note(note_id: int) -> ResponseReturnValue:
    """Delete one of the caller's notes; only with a fresh token (one from signing in).
    ---
    delete:
      security:
        - bearerAuth: []
      responses:
        204:
          description: The note is gone
        401:
          description: No valid access token, or one that is not fresh
          content:
            application/json:
              schema: MessageSchema
        404:
          description: No such note among the caller's
          content:
            application/json:
              schema: MessageSchema
    """
    db.session.delete(own_note_or_404(owner_id=_caller_id(), note_id=note_id))
    db.session.commit()
    return "", 204
