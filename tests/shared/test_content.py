"""Slugs and tag lists: the content rules both sides apply."""

from __future__ import annotations

import re

import pytest

from shared.content import MAX_SLUG_BASE, base_slug, fresh_slug, normalise_tags


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("  How to   train your DRAGON  ", "how-to-train-your-dragon"),
        ("Crème brûlée", "creme-brulee"),
        ("C'est déjà l'été", "c-est-deja-l-ete"),
        ("2024: a year", "2024-a-year"),
    ],
)
def test_base_slug(title: str, slug: str) -> None:
    assert base_slug(title) == slug


@pytest.mark.parametrize("title", ["", "   ", "!!!", "?,.;:/\\", "---"])
def test_base_slug_of_a_title_without_letters_is_article(title: str) -> None:
    assert base_slug(title) == "article"


def test_base_slug_is_bounded() -> None:
    slug = base_slug("word " * 200)

    assert 0 < len(slug) <= MAX_SLUG_BASE
    assert not slug.endswith("-")


def test_fresh_slug_extends_the_base_and_differs_each_time() -> None:
    slugs = {fresh_slug("Hello, World!") for _ in range(20)}

    assert len(slugs) == 20
    for slug in slugs:
        assert re.fullmatch(r"hello-world-[0-9a-f]{8}", slug), slug


def test_fresh_slug_of_a_symbol_only_title() -> None:
    assert re.fullmatch(r"article-[0-9a-f]{8}", fresh_slug("???"))


@pytest.mark.parametrize(
    ("tags", "normalised"),
    [
        ([], []),
        (["dragons", "training"], ["dragons", "training"]),
        (["  dragons ", "\ttraining\n"], ["dragons", "training"]),
        (["", "   ", "dragons", "\t"], ["dragons"]),
        (["b", "a", "b", " a ", "c"], ["b", "a", "c"]),
        (["zeta", "alpha", "mu"], ["zeta", "alpha", "mu"]),
    ],
)
def test_normalise_tags(tags: list[str], normalised: list[str]) -> None:
    assert normalise_tags(tags) == normalised
