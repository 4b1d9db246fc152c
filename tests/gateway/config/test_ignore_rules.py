"""The ``ignore`` rule syntax, and what a rule leaves out when the shadow compares answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gateway.config.ignore_rules import rule_parts, rule_problem
from gateway.shadow.compare import Verdict, compare, rule_to_regex

VALID = {
    "article.updatedAt": [("article", ""), ("updatedAt", "")],
    "articles[*].slug": [("articles", ""), ("", "*"), ("slug", "")],
    "articles[0]": [("articles", ""), ("", "0")],
    "a-b.c_d[3][*]": [("a-b", ""), ("c_d", ""), ("", "3"), ("", "*")],
    "_private": [("_private", "")],
    "items[12].tags[*]": [("items", ""), ("", "12"), ("tags", ""), ("", "*")],
}

INVALID = [
    ".a",  # no leading key
    "a.",  # no trailing key
    "a[x]",  # an index is digits or *
    "a[]",
    "1a",  # a key starts with a letter or _
    "a..b",
    "",
    "[0]",  # a path starts with a key
    "a[-1]",
    "a[*",
    "a.[0]",
    "a b",
    "root['a']",  # DeepDiff's own form is not the manifest's
]


@pytest.mark.parametrize("rule", list(VALID))
def test_a_dotted_path_is_a_valid_rule(rule: str) -> None:
    assert rule_problem(rule) is None


@pytest.mark.parametrize("rule", INVALID)
def test_anything_else_is_refused_naming_the_rule(rule: str) -> None:
    problem = rule_problem(rule)

    assert problem is not None
    assert repr(rule) in problem


@pytest.mark.parametrize(("rule", "parts"), list(VALID.items()))
def test_a_rule_splits_into_key_and_index_steps(rule: str, parts: list[tuple[str, str]]) -> None:
    assert rule_parts(rule) == parts


def _ignored(rule: str, path: str) -> bool:
    """Whether ``rule`` leaves out DeepDiff's ``path``, as compare applies it."""
    return re.search(rule_to_regex(rule), path) is not None


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("article.updatedAt", "root['article']['updatedAt']"),
        ("article.updatedAt", "root['article']['updatedAt']['zone']"),
        ("article.updatedAt", "root['article']['updatedAt'][2]"),
        ("articles[*].slug", "root['articles'][0]['slug']"),
        ("articles[*].slug", "root['articles'][17]['slug']['x']"),
        ("articles[0]", "root['articles'][0]"),
        ("articles[0]", "root['articles'][0]['title']"),
        ("a-b.c_d[3][*]", "root['a-b']['c_d'][3][0]"),
    ],
)
def test_a_rule_covers_its_path_and_everything_beneath(rule: str, path: str) -> None:
    assert _ignored(rule, path)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("article.updated", "root['article']['updatedAt']"),  # a sibling starting the same
        ("article.updatedAt", "root['article']['updated']"),
        ("article.updatedAt", "root['article']"),  # the parent
        ("article.updatedAt", "root['article']['title']"),
        ("article.updatedAt", "root['articles']['updatedAt']"),
        ("article.updatedAt", "root['feed']['article']['updatedAt']"),  # only from the top
        ("articles[*].slug", "root['articles'][0]['slugs']"),
        ("articles[*].slug", "root['articles']['slug']"),  # an object is not a list
        ("articles[0]", "root['articles'][1]"),
        ("articles[0]", "root['articles'][10]"),
        ("a-b.c_d[3][*]", "root['a-b']['c_d'][3]"),
        ("a-b.c_d[3][*]", "root['a-b']['c_d'][4][0]"),
        ("a.b", "root['a']['b'.*]"),  # the key is literal text, not a pattern
    ],
)
def test_a_rule_leaves_its_neighbours_compared(rule: str, path: str) -> None:
    assert not _ignored(rule, path)


def _compare(legacy: Any, v2: Any, *ignore: str) -> Verdict:
    return compare(
        legacy_status=200,
        legacy_body=json.dumps(legacy).encode(),
        v2_status=200,
        v2_body=json.dumps(v2).encode(),
        ignore=ignore,
    )


def test_a_rule_suppresses_its_key_but_not_a_sibling_whose_name_starts_the_same() -> None:
    legacy = {"article": {"updatedAt": "2024-01-01", "updated": True, "title": "t"}}
    v2 = {"article": {"updatedAt": "2024-01-02", "updated": False, "title": "t"}}

    verdict = _compare(legacy, v2, "article.updated")

    assert not verdict.matched
    assert verdict.signature == "root['article']['updatedAt']"
    assert _compare(legacy, v2, "article.updated", "article.updatedAt").matched


def test_a_rule_suppresses_any_difference_beneath_its_path() -> None:
    legacy = {"article": {"updatedAt": {"at": "10:00", "zone": "UTC"}, "title": "t"}}
    v2 = {"article": {"updatedAt": {"at": "10:01", "offset": 0}, "title": "t"}}
    retyped = {"article": {"updatedAt": [10, 1], "title": "t"}}

    assert not _compare(legacy, v2).matched
    assert _compare(legacy, v2, "article.updatedAt").matched  # changed, added, removed keys
    assert _compare(legacy, retyped, "article.updatedAt").matched  # another type altogether
    assert _compare(legacy, {"article": {"title": "t"}}, "article.updatedAt").matched  # gone


def test_a_sibling_of_an_ignored_path_is_still_compared() -> None:
    legacy = {"article": {"updatedAt": "a", "title": "old"}}
    v2 = {"article": {"updatedAt": "b", "title": "new"}}

    verdict = _compare(legacy, v2, "article.updatedAt")

    assert not verdict.matched
    assert verdict.signature == "root['article']['title']"


def test_a_star_covers_every_item_and_an_index_only_its_own() -> None:
    legacy = {"articles": [{"slug": "a-1", "title": "A"}, {"slug": "b-1", "title": "B"}]}
    v2 = {"articles": [{"slug": "a-2", "title": "A"}, {"slug": "b-2", "title": "B!"}]}

    every = _compare(legacy, v2, "articles[*].slug")
    first = _compare(legacy, v2, "articles[0]")

    assert not every.matched
    assert every.signature == "root['articles'][*]['title']"  # the second title, not a slug
    assert every.diff is not None
    assert list(every.diff["values_changed"]) == ["root['articles'][1]['title']"]
    assert not first.matched
    assert first.diff is not None
    assert sorted(first.diff["values_changed"]) == [
        "root['articles'][1]['slug']",
        "root['articles'][1]['title']",
    ]
    assert _compare(legacy, v2, "articles[*].slug", "articles[1].title").matched


def test_a_rule_with_dashes_underscores_and_nested_indexes() -> None:
    legacy = {"a-b": {"c_d": [0, 0, 0, [1, 2]]}}
    beneath = {"a-b": {"c_d": [0, 0, 0, [1, 3, 4]]}}
    beside = {"a-b": {"c_d": [0, 0, 9, [1, 2]]}}

    assert _compare(legacy, beneath, "a-b.c_d[3][*]").matched
    assert not _compare(legacy, beside, "a-b.c_d[3][*]").matched
