"""Learning noise: where two answers of legacy to one request differ, and by what kind.

Diffy's idea (run the old code twice; what differs between the two runs is noise), kept by
kind rather than as a blanket ignore: for each JSON path, in how many pairs it differed, and
the narrowest kind that covers every difference seen there (:func:`gateway.shadow.noise.kind_of`).
Kinds widen as evidence comes: a timestamp in one pair and free text in another is text;
a number in one and a string in another is covered by no kind, and only an ``ignore`` rule
would leave it out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gateway.config.ignore_rules import rule_problem
from gateway.config.noise_rules import NoiseRule
from gateway.shadow.noise import kind_of

# A status line that differs is noise of no kind, under a path no JSON document has.
STATUS_PATH = "(status)"
# Texts whose kinds a wider one covers.
_TEXTS = frozenset({"timestamp", "uuid", "text"})
_MISSING = object()


@dataclass(slots=True)
class PathNoise:
    count: int  # pairs in which the path differed
    kind: str | None  # None: no kind covers what was seen
    tolerance: float | None = None  # a number's widest difference; None for any, or ints

    def stored(self) -> dict[str, Any]:
        return {"count": self.count, "kind": self.kind, "tolerance": self.tolerance}

    @classmethod
    def read(cls, stored: dict[str, Any]) -> PathNoise:
        return cls(stored["count"], stored["kind"], stored.get("tolerance"))

    def widened(self, other: PathNoise) -> PathNoise:
        """What covers both: the same kind (a number's larger tolerance), or text."""
        count = self.count + other.count
        if self.kind == other.kind and self.kind is not None:
            tolerances = [t for t in (self.tolerance, other.tolerance) if t is not None]
            exact = self.tolerance is not None and other.tolerance is not None
            return PathNoise(count, self.kind, max(tolerances) if exact else None)
        if self.kind in _TEXTS and other.kind in _TEXTS:
            return PathNoise(count, "text")
        return PathNoise(count, None)

    def proposed(self, path: str) -> NoiseRule | None:
        """The manifest line that would cover it, when a rule can name the path."""
        if self.kind is None or rule_problem(path) is not None:
            return None
        tolerance = None if self.tolerance is None else _rounded_up(2 * self.tolerance)
        return NoiseRule(path, self.kind, tolerance)


def _rounded_up(value: float) -> float:
    """``value`` to one significant figure, upwards: 0.0023 -> 0.003."""
    if value <= 0:
        return 0.0
    text = f"{value:.0e}"
    rounded = float(text)
    return rounded if rounded >= value else float(f"{int(text[0]) + 1}{text[1:]}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def differences(first: Any, second: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, first's value, second's value) where the documents differ; list items are
    ``[*]``, and a list equal in another order is one difference of the list itself."""
    if first == second:
        return
    if isinstance(first, dict) and isinstance(second, dict):
        for key in sorted(first.keys() | second.keys()):
            if key in first and key in second:
                yield from differences(first[key], second[key], _join(path, key))
            else:
                yield _join(path, key), first.get(key, _MISSING), second.get(key, _MISSING)
    elif isinstance(first, list) and isinstance(second, list) and len(first) == len(second):
        if sorted(map(_canonical, first)) == sorted(map(_canonical, second)):
            yield path, first, second
            return
        for one, other in zip(first, second, strict=True):
            yield from differences(one, other, f"{path}[*]")
    else:
        yield path, first, second


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def pair_noise(first: Any, second: Any) -> dict[str, PathNoise]:
    """Each path where one pair of documents differs, once, with its kind."""
    found: dict[str, PathNoise] = {}
    for path, one, other in differences(first, second):
        rule = kind_of(one, other) if _MISSING not in (one, other) else None
        integral = isinstance(one, int) and isinstance(other, int)
        tolerance = None if rule is None or integral else rule.tolerance
        seen = PathNoise(1, None if rule is None else rule.kind, tolerance)
        before = found.get(path)
        found[path] = seen if before is None else before.widened(seen)
        found[path].count = 1  # once per pair, however many items differed
    return found


def learned(pairs: Iterable[tuple[int, Any, int, Any]]) -> tuple[int, dict[str, PathNoise]]:
    """How many pairs of (status, document) were compared, and every path's noise."""
    total = 0
    paths: dict[str, PathNoise] = {}
    for first_status, first, second_status, second in pairs:
        total += 1
        found = pair_noise(first, second)
        if first_status != second_status:
            found[STATUS_PATH] = PathNoise(1, None)
        for path, noise in found.items():
            before = paths.get(path)
            paths[path] = noise if before is None else before.widened(noise)
    return total, paths
