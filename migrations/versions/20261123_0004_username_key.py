"""Usernames compared by their key: one account per name, whatever its case or width.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Existing rows get their key here. Two existing accounts whose names share a key (created
before this rule) both stay: the older keeps the plain key, the newer gets ``key~id``.
"""

import unicodedata
from collections.abc import Sequence

import precis_i18n
import sqlalchemy as sa
from alembic import op
from confusable_homoglyphs import confusables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY_LENGTH = 64


def _key(username: str) -> str:
    # The rule as it stands in this revision (shared.identity may move on later).
    try:
        mapped = precis_i18n.get_profile("UsernameCaseMapped:CaseFold").enforce(username)
    except UnicodeError:  # a name from before the rule: compare it case-folded
        mapped = username.casefold()
    text = unicodedata.normalize("NFKC", mapped)
    found = confusables.is_confusable(text, greedy=True, preferred_aliases=["latin"]) or []
    latin = {
        entry["character"]: next(
            (glyph["c"] for glyph in entry["homoglyphs"] if glyph["c"].isascii()),
            entry["character"],
        )
        for entry in found
    }
    return "".join(latin.get(char, char) for char in text)[:_KEY_LENGTH]


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(length=_KEY_LENGTH), nullable=True))
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("username_key", sa.String),
    )
    connection = op.get_bind()
    taken: set[str] = set()
    rows = connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id))
    for user_id, username in rows.all():
        key = _key(username)
        if key in taken:
            suffix = f"~{user_id}"
            key = key[: _KEY_LENGTH - len(suffix)] + suffix
        taken.add(key)
        connection.execute(users.update().where(users.c.id == user_id).values(username_key=key))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(_KEY_LENGTH), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_username_key"), ["username_key"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_username_key"), type_="unique")
        batch.drop_column("username_key")
