"""The notes API on v2: the legacy API's routes, and two that only v2 has (/api/session).

No ``from __future__ import annotations`` here: the routes' dependency aliases are local to
``build_router`` (they close over the bridges), and FastAPI must see them evaluated.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from flask.sessions import SecureCookieSession
from notes_app.models import Note, User, notes_of
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from gateway.bridges.flask_jwt import FlaskJWTBridge
from gateway.bridges.flask_session import FlaskSessionBridge
from gateway.bridges.flask_sqlalchemy import FlaskSQLAlchemyBridge
from notes_v2.errors import NotFound
from notes_v2.schemas import AccessToken, Me, NewNote, NoteOut, NotesOut, TokenRequest, Tokens


@dataclass(frozen=True)
class Bridges:
    database: FlaskSQLAlchemyBridge
    sessions: FlaskSessionBridge
    tokens: FlaskJWTBridge


def build_router(bridges: Bridges) -> APIRouter:
    database, sessions, tokens = bridges.database, bridges.sessions, bridges.tokens
    SessionDep = Annotated[AsyncSession, Depends(database.async_session)]
    Claims = Annotated[dict[str, Any], Depends(tokens.required())]
    FreshClaims = Annotated[dict[str, Any], Depends(tokens.required(fresh=True))]
    RefreshClaims = Annotated[dict[str, Any], Depends(tokens.required(refresh=True))]
    FlaskSession = Annotated[SecureCookieSession, Depends(sessions.load)]
    router = APIRouter(prefix="/api")

    async def own_note(session: AsyncSession, claims: dict[str, Any], note_id: int) -> Note:
        owner = int(tokens.identity(claims))
        note = await session.scalar(notes_of(owner).where(Note.id == note_id))
        if note is None:
            raise NotFound("Note")  # someone else's note is not found either
        return note

    @router.post("/token", response_model=Tokens)
    async def create_token(body: TokenRequest, session: SessionDep) -> JSONResponse:
        user = await session.scalar(select(User).where(User.username == body.username))
        # Password hashing is CPU work by design: off the event loop.
        if user is None or not await run_in_threadpool(user.check_password, body.password):
            return JSONResponse({"msg": "Bad username or password"}, status_code=401)
        identity = str(user.id)
        issued = Tokens(
            access_token=tokens.create_access_token(identity, fresh=True),
            refresh_token=tokens.create_refresh_token(identity),
        )
        response = JSONResponse(issued.model_dump())
        tokens.set_access_cookies(response, issued.access_token)
        tokens.set_refresh_cookies(response, issued.refresh_token)
        return response

    @router.post("/token/refresh", response_model=AccessToken)
    async def refresh_token(claims: RefreshClaims) -> JSONResponse:
        # Not fresh: no password was given. Revoking a token (DELETE /api/token) stays on
        # legacy (the manifest's keep_on_legacy): v2 reads its blocklist, never writes it.
        access_token = tokens.create_access_token(tokens.identity(claims), fresh=False)
        response = JSONResponse(AccessToken(access_token=access_token).model_dump())
        tokens.set_access_cookies(response, access_token)
        return response

    @router.get("/notes", response_model=NotesOut)
    async def list_notes(session: SessionDep, claims: Claims) -> NotesOut:
        found = await session.scalars(notes_of(int(tokens.identity(claims))))
        return NotesOut(notes=[NoteOut.model_validate(note) for note in found])

    @router.post("/notes", status_code=201, response_model=NoteOut)
    async def create_note(
        body: NewNote, session: SessionDep, claims: Claims, request: Request, response: Response
    ) -> NoteOut:
        note = Note(owner_id=int(tokens.identity(claims)), title=body.title, body=body.body)
        session.add(note)
        await session.commit()
        # Where v2 is mounted (root_path) and this router's own path for the note.
        location = router.url_path_for("get_note", note_id=str(note.id))
        response.headers["Location"] = request.scope.get("root_path", "") + location
        return NoteOut.model_validate(note)

    @router.get("/notes/{note_id}", response_model=NoteOut)
    async def get_note(note_id: int, session: SessionDep, claims: Claims) -> NoteOut:
        return NoteOut.model_validate(await own_note(session, claims, note_id))

    @router.delete("/notes/{note_id}", status_code=204)
    async def delete_note(note_id: int, session: SessionDep, claims: FreshClaims) -> Response:
        await session.delete(await own_note(session, claims, note_id))
        await session.commit()
        return Response(status_code=204)

    @router.get("/session", response_model=Me)
    async def who_is_logged_in(flask_session: FlaskSession, session: SessionDep) -> Me:
        """The user logged in on the legacy pages (Flask-Login), from the same cookie."""
        user_id = sessions.user_id(flask_session)
        user = await session.get(User, int(user_id)) if user_id is not None else None
        if user is None:
            raise NotFound("Session")
        return Me(id=user.id, username=user.username)

    @router.delete("/session", status_code=204)
    async def log_out(flask_session: FlaskSession) -> Response:
        """Log out of the legacy pages too: the cleared session is the one Flask reads."""
        response = Response(status_code=204)
        flask_session.clear()
        sessions.save(flask_session, response)
        return response

    return router
