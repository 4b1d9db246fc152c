"""Registration, login and the current user."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from legacy_flask.auth import current_user, issue_token, login_required
from legacy_flask.db import get_session
from legacy_flask.payload import load_envelope
from legacy_flask.schemas import LoginSchema, NewUserSchema, UpdateUserSchema, user_schema
from shared import rules
from shared.errors import Conflict, Unauthorized
from shared.models import User
from shared.passwords import hash_password, verify_password
from shared.queries import taken_fields, users_taking

bp = Blueprint("users", __name__, url_prefix="/api")


def _user_body(user: User, token: str) -> dict[str, Any]:
    return {"user": user_schema.dump({**_user_fields(user), "token": token})}


def _user_fields(user: User) -> dict[str, Any]:
    return {"email": user.email, "username": user.username, "bio": user.bio, "image": user.image}


def _refuse_taken(
    session: Session, *, username: str | None, email: str | None, except_id: int | None = None
) -> None:
    rows = session.execute(users_taking(username=username, email=email, except_id=except_id)).all()
    taken = taken_fields(rows, username=username, email=email)
    if taken:
        raise Conflict(*taken)


def _commit(session: Session) -> None:
    """Commit; a unique-constraint race lost to another writer is still a 409."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        # Both SQLite and PostgreSQL name the violated column or constraint.
        fields = [f for f in ("username", "email") if f in str(exc.orig)] or ["username"]
        raise Conflict(*fields) from exc


@bp.post("/users")
def register() -> tuple[dict[str, Any], int]:
    """Register a user.

    ---
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [user], properties: {user: NewUserSchema}}
      responses:
        201:
          description: The new user, with a token
          content: {application/json: {schema: UserEnvelopeSchema}}
        409: Conflict
        422: Invalid
    """
    data = load_envelope("user", NewUserSchema())
    session = get_session()
    _refuse_taken(session, username=data["username"], email=data["email"])
    user = User(
        username=data["username"],
        email=data["email"],
        password_hash=hash_password(data["password"]),
    )
    session.add(user)
    _commit(session)
    return _user_body(user, issue_token(user)), 201


@bp.post("/users/login")
def login() -> dict[str, Any]:
    """Log in.

    ---
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [user], properties: {user: LoginSchema}}
      responses:
        200:
          description: The user, with a token
          content: {application/json: {schema: UserEnvelopeSchema}}
        401: Unauthorized
        422: Invalid
    """
    data = load_envelope("user", LoginSchema())
    session = get_session()
    user = session.scalar(select(User).where(User.email == data["email"]))
    valid, new_hash = verify_password(data["password"], user.password_hash if user else None)
    if user is None or not valid:
        field, message = rules.BAD_CREDENTIALS
        raise Unauthorized(message, field=field)
    if new_hash is not None:
        user.password_hash = new_hash  # an older hash format, upgraded to argon2id
        session.commit()
    return _user_body(user, issue_token(user))


@bp.get("/user")
@login_required
def get_current_user() -> dict[str, Any]:
    """The current user.

    ---
    get:
      security: [{Token: []}]
      responses:
        200:
          description: The user
          content: {application/json: {schema: UserEnvelopeSchema}}
        401: Unauthorized
    """
    return _user_body(current_user(), g.token)


@bp.put("/user")
@login_required
def update_current_user() -> dict[str, Any]:
    """Update the current user.

    ---
    put:
      security: [{Token: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [user], properties: {user: UpdateUserSchema}}
      responses:
        200:
          description: The updated user
          content: {application/json: {schema: UserEnvelopeSchema}}
        401: Unauthorized
        409: Conflict
        422: Invalid
    """
    data = load_envelope("user", UpdateUserSchema())
    session = get_session()
    user = current_user()
    username, email = data.get("username"), data.get("email")
    if username is not None or email is not None:
        _refuse_taken(session, username=username, email=email, except_id=user.id)
    if "password" in data:
        user.password_hash = hash_password(data.pop("password"))
    for name, value in data.items():
        setattr(user, name, value)
    _commit(session)
    return _user_body(user, g.token)
