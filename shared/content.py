"""Pure rules for article content that both sides must apply identically."""

from __future__ import annotations

import secrets

from slugify import slugify

MAX_SLUG_BASE = 200


def base_slug(title: str) -> str:
    return slugify(title, max_length=MAX_SLUG_BASE) or "article"


def fresh_slug(title: str) -> str:
    """A slug for a title whose base slug is taken: duplicate titles get distinct slugs."""
    return f"{base_slug(title)}-{secrets.token_hex(4)}"


def normalise_tags(tags: list[str]) -> list[str]:
    """Trim, drop blanks and duplicates, keep the order the author gave."""
    seen: dict[str, None] = {}
    for tag in tags:
        name = tag.strip()
        if name:
            seen.setdefault(name, None)
    return list(seen)
