"""The API's bodies, serialised exactly as the legacy marshmallow schemas do."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from notes_app.schemas import NUL_MESSAGE
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_serializer


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


Text = Annotated[str, AfterValidator(_without_nul)]


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    created_at: datetime

    @field_serializer("created_at")
    def _iso(self, value: datetime) -> str:
        # marshmallow's DateTime writes isoformat() ("+00:00"); Pydantic would write "Z".
        return value.isoformat()


class NotesOut(BaseModel):
    notes: list[NoteOut]


class NewNote(BaseModel):
    # marshmallow refuses a field the schema does not name (its default, RAISE).
    model_config = ConfigDict(extra="forbid")

    title: Text = Field(min_length=1, max_length=200)
    body: Text = ""


class TokenRequest(BaseModel):
    username: str
    password: str


class Tokens(BaseModel):
    access_token: str
    refresh_token: str


class AccessToken(BaseModel):
    """What refreshing gives: only signing in issues a refresh token."""

    access_token: str


class Me(BaseModel):
    id: int
    username: str
