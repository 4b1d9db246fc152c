"""The legacy side of the bridge tests: a small Flask app written as a Flask team would.

Flask-SQLAlchemy models (one on a second database through a bind), Flask-Login on the
signed cookie session, and flask-jwt-extended with tokens in headers or in cookies (CSRF
double submit on), a blocklist kept in a table, a user lookup and one overridden error
handler. Every table is prefixed ``bridge_`` so it never meets the Conduit schema.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request, session
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_current_user,
    get_jwt,
    get_jwt_identity,
    jwt_required,
    set_access_cookies,
    set_refresh_cookies,
)
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SESSION_KEY = "bridge-session-key-current-0123456789"
OLD_SESSION_KEY = "bridge-session-key-previous-0123456789"
JWT_KEY = "bridge-jwt-key-that-is-long-enough-for-hs256"
JWT_ISSUER = "legacy-notes"
# Any RSA public key will do: the RS256 app only has to refuse tokens, never to verify one.
RS_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxrmiKWG3d+DOnxxXITVN
Yr9ORbzbp6SqMDYY/4S9eyeKaLYQUh1rEOB5SwQTuyOznnQd9TgveqPF6/UH5MdW
vtqlsVbB2Z9RBXpLdkTlhz3SzaA+FdTipQ9THfyRWVkN1XfvleMWySzJmqV5qLWI
c+cI/tGCu33WXuVjalSpd0V5yZszx8Cqkw0mutQoppYGdJgCoCyeAgD9NihO44Nn
nsGSUj5fJWd5cXE1q3Yjqm9wEpA6BlmrSYZ0Cmz2QnPU/+96j+0rFKiYZmtZBs/C
cRItw+70ln6fjLaQhy0KmHEi1MYksxJc+4x4JOnS/ih6/aeKMXKdkEcP5JDl2s35
FQIDAQAB
-----END PUBLIC KEY-----
"""


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bridge_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


class Note(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bridge_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(200))


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    __bind_key__ = "audit"
    __tablename__ = "bridge_audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(200))


class RevokedToken(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bridge_revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)


def create_legacy_app(*, database_url: str, audit_url: str) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=SESSION_KEY,
        SECRET_KEY_FALLBACKS=[OLD_SESSION_KEY],
        SESSION_COOKIE_SAMESITE="Lax",
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_BINDS={"audit": audit_url},
        JWT_SECRET_KEY=JWT_KEY,
        JWT_TOKEN_LOCATION=["headers", "cookies"],
        JWT_ENCODE_ISSUER=JWT_ISSUER,
        JWT_DECODE_ISSUER=JWT_ISSUER,
    )
    db.init_app(app)
    _set_up_login(app)
    _set_up_jwt(app)
    _add_data_views(app)
    return app


def _add_data_views(app: Flask) -> None:
    @app.post("/users")
    def add_user() -> Any:
        user = User(name=request.get_json()["name"])
        db.session.add(user)
        db.session.commit()
        return {"id": user.id}, 201

    @app.post("/notes")
    def add_note() -> Any:
        note = Note(body=request.get_json()["body"])
        db.session.add(note)
        db.session.commit()
        return {"id": note.id}, 201

    @app.get("/notes/<int:note_id>")
    def get_note(note_id: int) -> Any:
        note = db.get_or_404(Note, note_id)
        return {"id": note.id, "body": note.body}

    @app.get("/audit/<int:entry_id>")
    def get_audit_entry(entry_id: int) -> Any:
        entry = db.get_or_404(AuditEntry, entry_id)
        return {"id": entry.id, "message": entry.message}


def _set_up_login(app: Flask) -> None:
    login_manager = LoginManager(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    @app.post("/session/login")
    def login() -> Any:
        user = db.get_or_404(User, request.get_json()["user_id"])
        login_user(user)
        return {"user_id": user.get_id()}

    @app.get("/session/me")
    @login_required
    def me() -> Any:
        return {"user_id": current_user.get_id()}

    @app.get("/session/cart")
    def get_cart() -> Any:
        return {"cart": session.get("cart")}

    @app.post("/session/cart")
    def set_cart() -> Any:
        session["cart"] = request.get_json()["cart"]
        return {"cart": session["cart"]}


def _set_up_jwt(app: Flask) -> None:
    jwt = JWTManager(app)

    @jwt.token_in_blocklist_loader
    def is_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        return db.session.get(RevokedToken, payload["jti"]) is not None

    @jwt.user_lookup_loader
    def find_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        return db.session.get(User, int(payload["sub"]))

    @jwt.additional_claims_loader
    def scope(_identity: Any) -> dict[str, Any]:
        return {"scope": "notes"}

    # The team answers expired tokens its own way; the bridge must answer the same.
    @jwt.expired_token_loader
    def expired(_header: dict[str, Any], payload: dict[str, Any]) -> Any:
        body = jsonify(error="token_expired", sub=payload["sub"])
        return body, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}

    def tokens_for(user_id: int) -> dict[str, str]:
        user = db.get_or_404(User, user_id)
        return {
            "access_token": create_access_token(str(user.id), fresh=True),
            "refresh_token": create_refresh_token(str(user.id)),
        }

    @app.post("/jwt/login")
    def jwt_login() -> Any:
        return tokens_for(request.get_json()["user_id"])

    @app.post("/jwt/cookie-login")
    def jwt_cookie_login() -> Any:
        tokens = tokens_for(request.get_json()["user_id"])
        response = jsonify(logged_in=True)
        set_access_cookies(response, tokens["access_token"])
        set_refresh_cookies(response, tokens["refresh_token"])
        return response

    @app.route("/jwt/me", methods=["GET", "POST"])
    @jwt_required()
    def jwt_me() -> Any:
        user = get_current_user()
        return {"sub": get_jwt_identity(), "name": user.name, "scope": get_jwt()["scope"]}

    @app.post("/jwt/json-me")
    @jwt_required(locations=["json"])
    def jwt_json_me() -> Any:
        return {"sub": get_jwt_identity(), "note": request.get_json()["note"]}

    @app.get("/jwt/fresh")
    @jwt_required(fresh=True)
    def jwt_fresh() -> Any:
        return {"sub": get_jwt_identity()}

    @app.post("/jwt/refresh")
    @jwt_required(refresh=True)
    def jwt_refresh() -> Any:
        return {"access_token": create_access_token(get_jwt_identity(), fresh=False)}

    @app.post("/jwt/revoke")
    @jwt_required()
    def jwt_revoke() -> Any:
        jti = get_jwt()["jti"]
        db.session.add(RevokedToken(jti=jti))
        db.session.commit()
        return {"revoked": jti}


def create_rs256_legacy_app() -> Flask:
    """An app verifying RS256 tokens with a public key: the target of HS/RS confusion."""
    app = Flask("rs256_legacy")
    app.config.update(JWT_ALGORITHM="RS256", JWT_PUBLIC_KEY=RS_PUBLIC_KEY)
    JWTManager(app)

    @app.get("/jwt/me")
    @jwt_required()
    def jwt_me() -> Any:
        return {"sub": get_jwt_identity()}

    return app
