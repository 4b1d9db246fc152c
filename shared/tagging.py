"""Attach an ordered tag list to an article; pure ORM work, the same for both sides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.models import Article, ArticleTag, Tag


def relink_tags(article: Article, names: Sequence[str], tags: Mapping[str, Tag]) -> None:
    """Make ``article.tag_links`` follow ``names`` (already normalised), in order.

    Links for tags the article keeps are reused: replacing a list never inserts a second
    row with the same primary key in one flush. ``article.tag_links`` must be loaded (or
    the article new).
    """
    existing = {link.tag_id: link for link in article.tag_links} if article.id else {}
    links = []
    for position, name in enumerate(names):
        tag = tags[name]
        link = existing.get(tag.id) or ArticleTag(tag=tag)
        link.position = position
        links.append(link)
    article.tag_links = links
