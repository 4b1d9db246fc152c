"""Usernames as identity systems compare them: one account per name, whatever its spelling.

A username is compared by its key: the PRECIS ``UsernameCaseMapped`` profile (RFC 8265) with
case folding, which maps full-width forms to their usual width and upper case to lower case,
then NFKC. So "Alice", "ALICE" and its full-width spelling (U+FF21...) are one name. A
username mixing scripts (Latin "alice" written with a Cyrillic a, U+0430) is refused
outright, as Unicode TR39's restriction levels advise: it exists only to look like another.
"""

from __future__ import annotations

import unicodedata

import precis_i18n
from confusable_homoglyphs import confusables

_PROFILE = precis_i18n.get_profile("UsernameCaseMapped:CaseFold")

NOT_PRECIS = "contains characters a username may not use"
MIXED_SCRIPTS = "must not mix letters of different scripts"


def username_key(username: str) -> str:
    """The form two usernames are compared in (raises ValueError for one PRECIS refuses)."""
    try:
        mapped: str = _PROFILE.enforce(username)
    except UnicodeError as exc:
        raise ValueError(NOT_PRECIS) from exc
    return unicodedata.normalize("NFKC", mapped)


def identity_problem(username: str) -> str | None:
    try:
        username_key(username)
    except ValueError:
        return NOT_PRECIS
    if confusables.is_mixed_script(username):
        return MIXED_SCRIPTS
    return None
