"""Usernames as identity systems compare them: one account per name, whatever its spelling.

A username is compared by its key: the PRECIS ``UsernameCaseMapped`` profile (RFC 8265) with
case folding, which maps full-width forms to their usual width and upper case to lower case,
then NFKC, then each letter that looks like a basic Latin one replaced by it (a skeleton, in
the manner of Unicode TR39). So "Alice", "ALICE", its full-width spelling (U+FF21...) and
"coco" written in Cyrillic letters (U+0441 U+043E...) are each one name with their plain
Latin counterpart. A username mixing scripts (Latin "alice" written with a Cyrillic a,
U+0430) is refused outright, as TR39's restriction levels advise: it exists only to look
like another.
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
    return _skeleton(unicodedata.normalize("NFKC", mapped))


def _skeleton(text: str) -> str:
    """``text`` with every letter that has a basic Latin look-alike written as that letter."""
    found = confusables.is_confusable(text, greedy=True, preferred_aliases=["latin"]) or []
    latin = {
        entry["character"]: next(
            (glyph["c"] for glyph in entry["homoglyphs"] if glyph["c"].isascii()),
            entry["character"],
        )
        for entry in found
    }
    return "".join(latin.get(char, char) for char in text)


def identity_problem(username: str) -> str | None:
    try:
        username_key(username)
    except ValueError:
        return NOT_PRECIS
    if confusables.is_mixed_script(username):
        return MIXED_SCRIPTS
    return None
