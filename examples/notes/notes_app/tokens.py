"""flask-jwt-extended, with revoked tokens kept in the database."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import JWTManager
from sqlalchemy import select

from notes_app.db import db
from notes_app.models import RevokedToken

jwt = JWTManager()


@jwt.token_in_blocklist_loader
def token_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
    revoked = db.session.scalar(select(RevokedToken.id).where(RevokedToken.jti == payload["jti"]))
    return revoked is not None
