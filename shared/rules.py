"""Input rules and messages that both sides enforce, so a client sees one behaviour."""

from __future__ import annotations

import re

BLANK = "can't be blank"
NULL = "can't be null"
NOT_STRING = "must be a string"
INVALID_EMAIL = "is invalid"
NO_FIELDS = "must contain at least one field"
BAD_CREDENTIALS = ("email or password", "is invalid")

USERNAME_PATTERN = r"^[\w.\-]+$"
USERNAME_MESSAGE = "may only contain letters, digits, '.', '_' and '-'"
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
NOT_INTEGER = "must be an integer"
LIMIT_MESSAGE = f"must be between 1 and {PAGE_LIMIT_MAX}"
OFFSET_MESSAGE = "must be 0 or more"


def too_long(limit: int) -> str:
    return f"is too long (max {limit})"


def username_problem(value: str) -> str | None:
    """The first thing wrong with a (trimmed) username, or None."""
    if not value:
        return BLANK
    if len(value) > USERNAME_MAX:
        return too_long(USERNAME_MAX)
    if re.fullmatch(USERNAME_PATTERN, value) is None:
        return USERNAME_MESSAGE
    return None
