"""Users, their notes, and the revoked JWTs; and the one query both the pages and the API use."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy_utc import UtcDateTime
from werkzeug.security import check_password_hash, generate_password_hash

from notes_app.db import Model, db


def utcnow() -> datetime:
    return datetime.now(UTC)


# Flask-Login ships no type hints, so UserMixin is Any to mypy.
class User(UserMixin, Model):  # type: ignore[misc]
    __tablename__ = "notes_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Note(Model):
    __tablename__ = "notes_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("notes_users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RevokedToken(Model):
    """A JWT refused before it expires (flask-jwt-extended's blocklist)."""

    __tablename__ = "notes_revoked_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def notes_of(owner_id: int) -> Select[Note]:
    return (
        select(Note)
        .where(Note.owner_id == owner_id)
        .order_by(Note.created_at.desc(), Note.id.desc())
    )


def own_note_or_404(*, owner_id: int, note_id: int) -> Note:
    # Someone else's note is "not found" too, so note ids tell nothing about other users.
    note: Note = db.first_or_404(
        notes_of(owner_id).where(Note.id == note_id), description="Note not found"
    )
    return note
