"""The manifest's path patterns: which legacy paths a module owns, and where they live on v2.

A pattern is relative to the legacy prefix: ``/api/articles/*/comments``, where ``*`` is one
path segment and a final ``**`` any number of them. A v2 template names where a matched path
goes: ``/api/posts/{1}`` (``{n}`` is what the n-th ``*`` matched, ``{**}`` what ``**`` did).
"""

from __future__ import annotations

import re
from functools import cache

SEGMENT = re.compile(r"[A-Za-z0-9._~\-]+|\*|\*\*")
_PLACEHOLDER = re.compile(r"\{(\d+|\*\*)\}")


def segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


@cache
def pattern_segments(pattern: str) -> list[str]:
    """A pattern's segments: split once, matched against every request's path."""
    return segments(pattern)


def captures(pattern: list[str], path: list[str]) -> list[str] | None:
    """What each wildcard of ``pattern`` matched in ``path`` (``**`` last), or None."""
    captured: list[str] = []
    for i, segment in enumerate(pattern):
        if segment == "**":
            return [*captured, "/".join(path[i:])]
        if i >= len(path) or segment not in ("*", path[i]):
            return None
        if segment == "*":
            captured.append(path[i])
    return captured if len(path) == len(pattern) else None


def fill(template: str, captured: list[str]) -> str:
    def one(match: re.Match[str]) -> str:
        return captured[-1] if match[1] == "**" else captured[int(match[1]) - 1]

    return _PLACEHOLDER.sub(one, template)


def overlapping(a: str, b: str) -> bool:
    """Whether some path matches both patterns."""
    return _overlap(segments(a), segments(b))


def _overlap(a: list[str], b: list[str]) -> bool:
    if (a and a[0] == "**") or (b and b[0] == "**"):
        return True
    if not a or not b:
        return not a and not b
    return (a[0] == b[0] or "*" in (a[0], b[0])) and _overlap(a[1:], b[1:])


def pattern_problem(pattern: str) -> str | None:
    if not pattern.startswith("/"):
        return "must start with '/'"
    if pattern == "/":
        return None
    parts = pattern[1:].split("/")
    for i, segment in enumerate(parts):
        if not SEGMENT.fullmatch(segment):
            return f"segment {segment!r} is neither a name, '*' nor '**'"
        if segment == "**" and i != len(parts) - 1:
            return "'**' may only end a pattern"
    return None


def template_problem(pattern: str, template: str) -> str | None:
    if not template.startswith("/"):
        return "the v2 path must start with '/'"
    parts = pattern.strip("/").split("/")
    stars = parts.count("*")
    for found in _PLACEHOLDER.findall(template):
        if found == "**" and parts[-1] != "**":
            return "{**} needs a pattern that ends with '**'"
        if found != "**" and not 1 <= int(found) <= stars:
            return f"{{{found}}} but the pattern has {stars} '*' segment(s)"
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        return "placeholders are {1}, {2}, ... and {**}"
    return None
