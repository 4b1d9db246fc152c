"""Noise rules let a value differ only as its kind allows: type and format still count."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from gateway.config.errors import ConfigError
from gateway.config.manifest import parse_manifest
from gateway.config.noise_rules import NoiseRule, parse_noise
from gateway.shadow.compare import compare
from gateway.shadow.noise import kind_of


def _compare(legacy: Any, v2: Any, *rules: NoiseRule) -> bool:
    verdict = compare(
        legacy_status=200,
        legacy_body=json.dumps(legacy).encode(),
        v2_status=200,
        v2_body=json.dumps(v2).encode(),
        noise=rules,
    )
    return verdict.matched


@pytest.mark.parametrize(
    ("kind", "legacy", "v2"),
    [
        ("timestamp", "2026-12-01T10:00:00.123Z", "2026-12-02T11:30:59.999Z"),
        ("timestamp", "Tue, 01 Dec 2026 10:00:00 GMT", "Wed, 02 Dec 2026 11:30:59 GMT"),
        ("uuid", "0b9e3c44-4c2a-4d7e-9a55-6f1f2a3b4c5d", "f47ac10b-58cc-4372-a567-0e02b2c3d479"),
        ("number 0.01", 0.30000000000000004, 0.3),
        ("number", 17, 4023),
        ("set", ["a", "b", {"c": 1}], [{"c": 1}, "b", "a"]),
        ("text", "k3j4h5", "zz"),
    ],
)
def test_a_value_that_varies_as_its_kind_allows_matches(kind: str, legacy: Any, v2: Any) -> None:
    rule = parse_noise("article.field", kind)

    assert _compare({"article": {"field": legacy}}, {"article": {"field": v2}}, rule)
    assert not _compare({"article": {"field": legacy}}, {"article": {"field": v2}})


@pytest.mark.parametrize(
    ("kind", "legacy", "v2"),
    [
        ("timestamp", "2026-12-01T10:00:00.123Z", "2026-12-01T10:00:00Z"),  # precision lost
        ("timestamp", "2026-12-01T10:00:00Z", 1796119200),  # a number now
        ("uuid", "0b9e3c44-4c2a-4d7e-9a55-6f1f2a3b4c5d", "0B9E3C44-4C2A-4D7E-9A55-6F1F2A3B4C5D"),
        ("uuid", "0b9e3c44-4c2a-4d7e-9a55-6f1f2a3b4c5d", "not-a-uuid"),
        ("number 0.01", 0.3, 0.32),
        ("number", 1, 1.5),  # an integer became a float
        ("set", ["a", "b"], ["a", "c"]),
        ("text", "abc", 3),
    ],
)
def test_a_change_of_type_or_format_still_mismatches(kind: str, legacy: Any, v2: Any) -> None:
    rule = parse_noise("article.field", kind)

    assert not _compare({"article": {"field": legacy}}, {"article": {"field": v2}}, rule)


def test_a_rule_reaches_every_item_of_a_list_and_nothing_else() -> None:
    rule = parse_noise("articles[*].updatedAt", "timestamp")
    legacy = {"articles": [{"updatedAt": "2026-12-01T10:00:00Z", "title": "a"}] * 2}
    moved = {"articles": [{"updatedAt": "2026-12-02T08:00:00Z", "title": "a"}] * 2}
    retitled = {"articles": [{"updatedAt": "2026-12-02T08:00:00Z", "title": "b"}] * 2}

    assert _compare(legacy, moved, rule)
    assert not _compare(legacy, retitled, rule)


def test_the_narrowest_kind_is_learned_from_two_values() -> None:
    assert kind_of("2026-12-01T10:00:00Z", "2026-12-01T10:00:05Z") == NoiseRule("", "timestamp")
    assert kind_of(str(uuid.uuid4()), str(uuid.uuid4())) == NoiseRule("", "uuid")
    assert kind_of(["x", "y"], ["y", "x"]) == NoiseRule("", "set")
    assert kind_of("abc", "abd") == NoiseRule("", "text")
    assert kind_of(1.5, 1.25) == NoiseRule("", "number", 0.25)
    assert kind_of("1", 1) is None  # no kind covers a change of type


def test_the_manifest_names_each_bad_noise_rule() -> None:
    text = """
[[module]]
name = "articles"
paths = ["/api/articles"]

[module.noise]
"article.updatedAt" = "stamp"
"article.score" = "number lots"
"articles[" = "set"
"""
    with pytest.raises(ConfigError) as raised:
        parse_manifest(text)

    message = str(raised.value)
    assert "unknown kind 'stamp'" in message
    assert "tolerance 'lots' is not a number" in message
    assert "'articles['" in message
