"""The syntax of a module's ``ignore`` rules: dotted JSON paths the shadow does not compare.

``article.updatedAt`` is one key, ``articles[*].updatedAt`` that key in every list item,
``articles[0]`` one item; a rule covers everything beneath its path too.
"""

from __future__ import annotations

import re

RULE = re.compile(r"[A-Za-z_][\w\-]*(\[(\*|\d+)\])*(\.[A-Za-z_][\w\-]*(\[(\*|\d+)\])*)*")
_PART = re.compile(r"([A-Za-z_][\w\-]*)|\[(\*|\d+)\]")


def rule_problem(rule: str) -> str | None:
    if RULE.fullmatch(rule) is None:
        return f"ignore rule {rule!r} is not a path like 'article.updatedAt' or 'articles[*].slug'"
    return None


def rule_parts(rule: str) -> list[tuple[str, str]]:
    """A valid rule as (key, "") and ("", index) steps; an index is digits or ``*``."""
    parts: list[tuple[str, str]] = []
    for segment in rule.split("."):
        parts.extend((m.group(1) or "", m.group(2) or "") for m in _PART.finditer(segment))
    return parts
