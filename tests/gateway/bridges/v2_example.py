"""The v2 side of the bridge tests: FastAPI routes on the legacy app's models, session and JWTs.

Session dependencies use ``scope="function"`` so that each session is closed before the
response is sent: the tests then read the pools right after an answer without racing the
cleanup. No ``from __future__ import annotations`` here: FastAPI must see the ``Annotated``
aliases, which are local to the factories, as objects rather than strings.
"""

from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Response
from flask.sessions import SecureCookieSession
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.bridges.flask_jwt import FlaskJWTBridge
from gateway.bridges.flask_session import FlaskSessionBridge
from gateway.bridges.flask_sqlalchemy import FlaskSQLAlchemyBridge
from tests.gateway.bridges.legacy_example import AuditEntry, Note, RevokedToken, User


class NoteIn(BaseModel):
    body: str


class AuditIn(BaseModel):
    message: str


class CartIn(BaseModel):
    cart: list[str]


class LoginIn(BaseModel):
    user_id: int


class JsonTokenIn(BaseModel):
    access_token: str
    note: str


def create_v2_app(
    *, notes_db: FlaskSQLAlchemyBridge, sessions: FlaskSessionBridge, auth: FlaskJWTBridge
) -> FastAPI:
    app = FastAPI()
    auth.install(app)
    _add_data_routes(app, notes_db)
    _add_session_routes(app, sessions)
    _add_jwt_routes(app, notes_db, auth)
    return app


def _add_data_routes(app: FastAPI, notes_db: FlaskSQLAlchemyBridge) -> None:
    SyncSessionDep = Annotated[Session, Depends(notes_db.session, scope="function")]
    SessionDep = Annotated[AsyncSession, Depends(notes_db.async_session, scope="function")]

    @app.get("/notes/{note_id}/sync")
    def get_note_sync(note_id: int, session: SyncSessionDep) -> dict[str, Any]:
        note = session.get(Note, note_id)
        if note is None:
            raise HTTPException(404)
        return {"id": note.id, "body": note.body}

    @app.get("/notes/{note_id}/async")
    async def get_note_async(note_id: int, session: SessionDep) -> dict[str, Any]:
        note = await session.get(Note, note_id)
        if note is None:
            raise HTTPException(404)
        return {"id": note.id, "body": note.body}

    @app.post("/notes/sync", status_code=201)
    def add_note_sync(body: NoteIn, session: SyncSessionDep) -> dict[str, int]:
        note = Note(body=body.body)
        session.add(note)
        session.commit()
        return {"id": note.id}

    @app.post("/notes/async", status_code=201)
    async def add_note_async(body: NoteIn, session: SessionDep) -> dict[str, int]:
        note = Note(body=body.body)
        session.add(note)
        await session.commit()
        return {"id": note.id}

    @app.post("/notes/sync/fail")
    def add_note_then_fail_sync(body: NoteIn, session: SyncSessionDep) -> None:
        session.add(Note(body=body.body))
        session.flush()  # the INSERT reaches the database inside the open transaction
        raise HTTPException(409, "refused after the insert")

    @app.post("/notes/async/fail")
    async def add_note_then_fail_async(body: NoteIn, session: SessionDep) -> None:
        session.add(Note(body=body.body))
        await session.flush()
        raise HTTPException(409, "refused after the insert")

    @app.post("/audit/sync", status_code=201)
    def add_audit_sync(body: AuditIn, session: SyncSessionDep) -> dict[str, int]:
        entry = AuditEntry(message=body.message)
        session.add(entry)
        session.commit()
        return {"id": entry.id}

    @app.post("/audit/async", status_code=201)
    async def add_audit_async(body: AuditIn, session: SessionDep) -> dict[str, int]:
        entry = AuditEntry(message=body.message)
        session.add(entry)
        await session.commit()
        return {"id": entry.id}

    # What the pools hold while a session is in use, to show the counts the tests read.
    @app.get("/pool/sync")
    def pool_in_use_sync(session: SyncSessionDep) -> dict[str, int]:
        session.execute(select(Note.id).limit(1))
        return {"checked_out": notes_db.engines[None].pool.checkedout()}  # type: ignore[attr-defined]

    @app.get("/pool/async")
    async def pool_in_use_async(session: SessionDep) -> dict[str, int]:
        await session.execute(select(Note.id).limit(1))
        pool = notes_db.async_engines[None].pool
        return {"checked_out": pool.checkedout()}  # type: ignore[attr-defined]


def _add_session_routes(app: FastAPI, sessions: FlaskSessionBridge) -> None:
    FlaskSession = Annotated[SecureCookieSession, Depends(sessions.load)]

    @app.get("/session/whoami")
    def whoami(session: FlaskSession) -> dict[str, Any]:
        return {"user_id": sessions.user_id(session), "fresh": session.get("_fresh")}

    @app.post("/session/logout")
    def logout(session: FlaskSession, response: Response) -> dict[str, bool]:
        session.clear()
        sessions.save(session, response)
        return {"logged_out": True}

    @app.get("/session/cart")
    def get_cart(session: FlaskSession) -> dict[str, Any]:
        return {"cart": session.get("cart")}

    @app.post("/session/cart")
    def set_cart(body: CartIn, session: FlaskSession, response: Response) -> dict[str, Any]:
        session["cart"] = body.cart
        sessions.save(session, response)
        return {"cart": body.cart}


def _add_jwt_routes(app: FastAPI, notes_db: FlaskSQLAlchemyBridge, auth: FlaskJWTBridge) -> None:
    Claims = Annotated[dict[str, Any], Depends(auth.required())]
    SessionDep = Annotated[AsyncSession, Depends(notes_db.async_session, scope="function")]

    async def tokens_for(user_id: int, session: AsyncSession) -> dict[str, str]:
        if await session.get(User, user_id) is None:
            raise HTTPException(404)
        return {
            "access_token": auth.create_access_token(str(user_id), fresh=True),
            "refresh_token": auth.create_refresh_token(str(user_id)),
        }

    @app.post("/jwt/login")
    async def login(body: LoginIn, session: SessionDep) -> dict[str, str]:
        return await tokens_for(body.user_id, session)

    @app.post("/jwt/cookie-login")
    async def cookie_login(body: LoginIn, session: SessionDep, response: Response) -> Any:
        tokens = await tokens_for(body.user_id, session)
        auth.set_access_cookies(response, tokens["access_token"])
        auth.set_refresh_cookies(response, tokens["refresh_token"])
        return {"logged_in": True}

    @app.post("/jwt/cookie-logout")
    def cookie_logout(response: Response) -> dict[str, bool]:
        auth.unset_jwt_cookies(response)
        return {"logged_out": True}

    @app.api_route("/jwt/me", methods=["GET", "POST"])
    async def me(claims: Claims, session: SessionDep) -> dict[str, Any]:
        user = await session.get(User, int(auth.identity(claims)))
        assert user is not None  # the app's user lookup callback already refused unknown ids
        return {"sub": auth.identity(claims), "name": user.name, "scope": claims["scope"]}

    @app.post("/jwt/json-me")
    async def json_me(
        body: JsonTokenIn,
        claims: Annotated[dict[str, Any], Depends(auth.required(locations=["json"]))],
    ) -> dict[str, Any]:
        return {"sub": auth.identity(claims), "note": body.note}

    @app.get("/jwt/fresh")
    async def fresh(
        claims: Annotated[dict[str, Any], Depends(auth.required(fresh=True))],
    ) -> dict[str, Any]:
        return {"sub": auth.identity(claims)}

    @app.post("/jwt/refresh")
    async def refresh(
        claims: Annotated[dict[str, Any], Depends(auth.required(refresh=True))],
    ) -> dict[str, str]:
        return {"access_token": auth.create_access_token(auth.identity(claims), fresh=False)}

    @app.get("/jwt/optional")
    async def optional(
        claims: Annotated[dict[str, Any] | None, Depends(auth.required(optional=True))],
    ) -> dict[str, Any]:
        return {"sub": None if claims is None else auth.identity(claims)}

    @app.post("/jwt/revoke")
    async def revoke(claims: Claims, session: SessionDep) -> dict[str, str]:
        session.add(RevokedToken(jti=claims["jti"]))
        await session.commit()
        return {"revoked": claims["jti"]}


def create_rs256_v2_app(auth: FlaskJWTBridge) -> FastAPI:
    app = FastAPI()
    auth.install(app)

    @app.get("/jwt/me")
    async def me(claims: Annotated[dict[str, Any], Depends(auth.required())]) -> dict[str, Any]:
        return {"sub": auth.identity(claims)}

    return app


def create_uninstalled_v2_app(auth: FlaskJWTBridge) -> FastAPI:
    """The bridge without ``install``: FastAPI's own HTTPException handling answers."""
    app = FastAPI()

    @app.get("/jwt/me")
    async def me(claims: Annotated[dict[str, Any], Depends(auth.required())]) -> dict[str, Any]:
        return {"sub": auth.identity(claims)}

    return app
