"""Input rules and messages that both sides enforce, so a client sees one behaviour.

Each ``*_problem`` function returns the first thing wrong with an already-trimmed value,
or None; the marshmallow and Pydantic adapters only turn that into their own error type.
"""

from __future__ import annotations

import re

from shared.identity import identity_problem

BLANK = "can't be blank"
NULL = "can't be null"
NOT_STRING = "must be a string"
NOT_STRING_LIST = "must be a list of strings"
NOT_INTEGER = "must be an integer"
NOT_JSON_OBJECT = "must be a JSON object"
NOT_OBJECT = "must be an object"
INVALID_EMAIL = "is invalid"
NO_FIELDS = "must contain at least one field"
# JSON can carry both, but neither can be stored: PostgreSQL refuses NUL in text, and an
# unpaired surrogate is not encodable as UTF-8 for any database.
INVALID_CHARACTERS = "must not contain NUL or unpaired surrogate characters"
# The RealWorld specification's own answer to a failed login.
BAD_CREDENTIALS = ("credentials", "invalid")

USERNAME_PATTERN = re.compile(r"[\w.\-]+")
USERNAME_MESSAGE = "may only contain letters, digits, '.', '_' and '-'"
# Deliberately loose: one @, no spaces, a dot in the domain. Delivery proves the rest.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
USERNAME_MAX = 64
EMAIL_MAX = 254
PASSWORD_MIN = 8
# argon2 cost grows with input; a cap keeps a huge password from being a cheap DoS.
PASSWORD_MAX = 256
PASSWORD_MESSAGE = f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"
TITLE_MAX = 255
TAG_MAX = 64
IMAGE_MAX = 2048
BIO_MAX = 10_000

PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100
LIMIT_MESSAGE = f"must be between 1 and {PAGE_LIMIT_MAX}"
# Ids and offsets are 32-bit integers in the database: a larger number names nothing, and
# PostgreSQL would refuse to compare with it.
INT_MAX = 2**31 - 1
OFFSET_MESSAGE = f"must be between 0 and {INT_MAX}"


def too_long(limit: int) -> str:
    return f"is too long (max {limit})"


def character_problem(value: str) -> str | None:
    if "\x00" in value:
        return INVALID_CHARACTERS
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return INVALID_CHARACTERS
    return None


def filter_problem(value: str) -> str | None:
    """A query filter (tag, author...): anything storable may be asked for."""
    return character_problem(value)


def text_problem(value: str, max_length: int | None = None) -> str | None:
    if not value:
        return BLANK
    if problem := character_problem(value):
        return problem
    if max_length is not None and len(value) > max_length:
        return too_long(max_length)
    return None


def optional_text_problem(value: str, max_length: int) -> str | None:
    if problem := character_problem(value):
        return problem
    return too_long(max_length) if len(value) > max_length else None


def username_problem(value: str) -> str | None:
    if problem := text_problem(value, USERNAME_MAX):
        return problem
    if USERNAME_PATTERN.fullmatch(value) is None:
        return USERNAME_MESSAGE
    return identity_problem(value)


def email_problem(value: str) -> str | None:
    if problem := text_problem(value, EMAIL_MAX):
        return problem
    return None if EMAIL_PATTERN.fullmatch(value) else INVALID_EMAIL


def password_problem(value: str) -> str | None:
    if not value:
        return BLANK
    if problem := character_problem(value):
        return problem
    return None if PASSWORD_MIN <= len(value) <= PASSWORD_MAX else PASSWORD_MESSAGE


def login_password_problem(value: str) -> str | None:
    # Any stored password may predate today's length rules: only refuse an empty one.
    return character_problem(value) if value else BLANK


def title_problem(value: str) -> str | None:
    return text_problem(value, TITLE_MAX)


def tag_problem(value: str) -> str | None:
    # Blank tags are dropped later (shared.content.normalise_tags), not refused.
    return optional_text_problem(value, TAG_MAX)


def bio_problem(value: str) -> str | None:
    return optional_text_problem(value, BIO_MAX)


def image_problem(value: str) -> str | None:
    return optional_text_problem(value, IMAGE_MAX)


def limit_problem(value: int) -> str | None:
    return None if 1 <= value <= PAGE_LIMIT_MAX else LIMIT_MESSAGE


def offset_problem(value: int) -> str | None:
    return None if 0 <= value <= INT_MAX else OFFSET_MESSAGE


def storable_id(value: int) -> bool:
    """Whether a row could have this id (others are simply not found)."""
    return 0 < value <= INT_MAX
