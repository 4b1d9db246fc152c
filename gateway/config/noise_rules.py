"""A module's ``[module.noise]`` table: JSON paths whose values differ run to run, by kind.

Where an ``ignore`` rule leaves a path out of the comparison, a noise rule says what may vary
there and nothing more: the two answers still agree on the value's type and format.

    [module.noise]
    "article.updatedAt" = "timestamp"     # both timestamps of one format (ISO 8601, HTTP date)
    "article.id" = "uuid"                 # both UUIDs
    "article.score" = "number 0.001"      # both numbers, at most 0.001 apart ("number": any)
    "articles[*].tagList" = "set"         # both lists, equal in any order
    "article.nonce" = "text"              # both strings

The paths are written as ``ignore`` rules are (:mod:`gateway.config.ignore_rules`).
``gateway parity learn`` proposes these lines from what legacy answers twice; they are never
applied until pasted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.config.ignore_rules import rule_problem

KINDS = ("timestamp", "uuid", "number", "set", "text")


@dataclass(frozen=True, slots=True)
class NoiseRule:
    path: str
    kind: str
    tolerance: float | None = None  # a number's: None for any

    def line(self) -> str:
        """As the manifest writes it."""
        value = self.kind if self.tolerance is None else f"{self.kind} {self.tolerance:g}"
        return f'"{self.path}" = "{value}"'


def parse_noise(path: str, value: object) -> NoiseRule:
    """One entry of the table; ValueError says what is wrong with it."""
    if rule_problem(path):
        raise ValueError(f"noise path {path!r} is not a path like 'article.updatedAt' or 'a[*].b'")
    if not isinstance(value, str):
        raise ValueError(f"noise {path!r}: the kind must be a string, one of {', '.join(KINDS)}")
    kind, _, rest = value.strip().partition(" ")
    if kind not in KINDS:
        raise ValueError(
            f"noise {path!r}: unknown kind {kind!r}, expected one of {', '.join(KINDS)}"
        )
    if not rest.strip():
        return NoiseRule(path, kind)
    if kind != "number":
        raise ValueError(f"noise {path!r}: only 'number' takes a tolerance ('number 0.01')")
    try:
        tolerance = float(rest)
    except ValueError:
        raise ValueError(
            f"noise {path!r}: the tolerance {rest.strip()!r} is not a number"
        ) from None
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"noise {path!r}: the tolerance must be a finite number >= 0")
    return NoiseRule(path, kind, tolerance)
