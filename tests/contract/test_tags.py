"""Tags in use."""

from __future__ import annotations

from tests.conduit import Account, Api


def test_tags_lists_each_tag_in_use_once_sorted(api: Api, alice: Account) -> None:
    api.create_article(alice, tagList=["python", "flask"])
    api.create_article(alice, tagList=["fastapi", "python"])

    response = api.get("/tags")

    assert response.status_code == 200
    assert response.json() == {"tags": ["fastapi", "flask", "python"]}


def test_a_tag_no_article_uses_disappears(api: Api, alice: Account) -> None:
    article = api.create_article(alice, tagList=["gone", "kept"])
    api.create_article(alice, tagList=["kept"])

    api.put(f"/articles/{article['slug']}", user=alice, json={"article": {"tagList": []}})

    assert api.get("/tags").json() == {"tags": ["kept"]}


def test_no_articles_no_tags(api: Api) -> None:
    assert api.get("/tags").json() == {"tags": []}
