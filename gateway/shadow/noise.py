"""Noise, by kind: what two answers to one request may differ in and still agree.

``agrees`` says whether two values at a noise rule's path differ only as its kind allows:
two timestamps of one format, two UUIDs, two numbers of one type (within the tolerance),
two lists equal in any order, two strings. A value of another type or format is not noise
(a v2 that answers a date as a number, or drops the zone, still mismatches).
``settled`` takes legacy's value wherever v2's agrees with it, before the comparison.
``kind_of`` is the other direction, for learning: the narrowest kind two values differ by.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from gateway.config.ignore_rules import rule_parts
from gateway.config.noise_rules import NoiseRule

_DIGITS = re.compile(r"\d")
_WORDS = re.compile(r"[A-Za-z]+")
_HEX = re.compile(r"[0-9a-f]")
_HEX_UPPER = re.compile(r"[0-9A-F]")


def _timestamp_shape(value: str) -> str | None:
    """The format of a timestamp (its digits masked), or None when it is not one."""
    if not _DIGITS.search(value):
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        try:
            parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        # An HTTP date names its day and month: the words vary as the digits do.
        return _WORDS.sub("Aaa", _DIGITS.sub("0", value))
    return _DIGITS.sub("0", value)


def _uuid_shape(value: str) -> str | None:
    try:
        uuid.UUID(value)
    except ValueError:
        return None
    return _HEX_UPPER.sub("X", _HEX.sub("x", value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _canonical(items: list[Any]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def agrees(rule: NoiseRule, first: Any, second: Any) -> bool:
    kind = rule.kind
    if kind == "number":
        if not (_is_number(first) and _is_number(second)) or type(first) is not type(second):
            return False
        return rule.tolerance is None or abs(first - second) <= rule.tolerance
    if kind == "set":
        both = isinstance(first, list) and isinstance(second, list)
        return both and _canonical(first) == _canonical(second)
    if not (isinstance(first, str) and isinstance(second, str)):
        return False
    if kind == "timestamp":
        shape = _timestamp_shape(first)
        return shape is not None and shape == _timestamp_shape(second)
    if kind == "uuid":
        shape = _uuid_shape(first)
        return shape is not None and shape == _uuid_shape(second)
    return kind == "text"


def _places(
    first: Any, second: Any, steps: Sequence[tuple[str, str]]
) -> Iterator[tuple[Any, Any, Any]]:
    """(first's container, second's container, key) for each place the steps reach in both."""
    (name, index), rest = steps[0], steps[1:]
    if name:
        keys: list[Any] = [name] if isinstance(first, dict) and isinstance(second, dict) else []
        keys = [key for key in keys if key in first and key in second]
    elif isinstance(first, list) and isinstance(second, list):
        count = min(len(first), len(second))
        keys = list(range(count)) if index == "*" else [int(index)] if int(index) < count else []
    else:
        keys = []
    for key in keys:
        if rest:
            yield from _places(first[key], second[key], rest)
        else:
            yield first, second, key


def settled(legacy: Any, v2: Any, rules: Sequence[NoiseRule]) -> Any:
    """v2's document with legacy's value wherever a noise rule says the two agree."""
    if not rules:
        return v2
    v2 = copy.deepcopy(v2)
    for rule in rules:
        for legacy_at, v2_at, key in _places(legacy, v2, rule_parts(rule.path)):
            if agrees(rule, legacy_at[key], v2_at[key]):
                v2_at[key] = legacy_at[key]
    return v2


def kind_of(first: Any, second: Any) -> NoiseRule | None:
    """The narrowest kind two different values agree by (its path left blank); None when
    no kind covers them (another type: only an ``ignore`` rule could)."""
    for kind in ("timestamp", "uuid", "set", "text"):
        if agrees(NoiseRule("", kind), first, second):
            return NoiseRule("", kind)
    if _is_number(first) and type(first) is type(second):
        return NoiseRule("", "number", abs(first - second))
    return None
