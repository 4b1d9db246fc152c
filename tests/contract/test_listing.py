"""Article listings and the feed: order, pagination, filters, counts."""

from __future__ import annotations

import pytest

from tests.conduit import Account, Api, assert_error


def _slugs(response_json: dict[str, list[dict[str, object]]]) -> list[object]:
    return [article["slug"] for article in response_json["articles"]]


def test_list_is_newest_first_without_bodies(api: Api, alice: Account) -> None:
    older = api.create_article(alice, tagList=["t"])
    newer = api.create_article(alice)

    response = api.get("/articles")

    assert response.status_code == 200
    body = response.json()
    assert _slugs(body) == [newer["slug"], older["slug"]]
    assert body["articlesCount"] == 2
    assert all("body" not in article for article in body["articles"])
    assert body["articles"][1]["tagList"] == ["t"]


def test_default_page_is_twenty_and_count_is_the_total(api: Api, alice: Account) -> None:
    for _ in range(23):
        api.create_article(alice)

    body = api.get("/articles").json()

    assert len(body["articles"]) == 20
    assert body["articlesCount"] == 23


def test_limit_and_offset_page_through(api: Api, alice: Account) -> None:
    created = [api.create_article(alice)["slug"] for _ in range(5)]
    newest_first = created[::-1]

    first = api.get("/articles", params={"limit": 2}).json()
    second = api.get("/articles", params={"limit": 2, "offset": 2}).json()
    beyond = api.get("/articles", params={"offset": 10}).json()

    assert _slugs(first) == newest_first[:2]
    assert _slugs(second) == newest_first[2:4]
    assert beyond == {"articles": [], "articlesCount": 5}
    assert first["articlesCount"] == second["articlesCount"] == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": "x"}, "offset"),
    ],
)
def test_bad_paging_is_a_422(api: Api, params: dict[str, object], field: str) -> None:
    assert_error(api.get("/articles", params=params), 422, field)


def test_filter_by_tag_author_and_favorited(api: Api, alice: Account, bob: Account) -> None:
    tagged = api.create_article(alice, tagList=["python"])
    by_bob = api.create_article(bob, tagList=["python", "rust"])
    plain = api.create_article(alice)
    api.post(f"/articles/{plain['slug']}/favorite", user=bob)

    by_tag = api.get("/articles", params={"tag": "python"}).json()
    by_author = api.get("/articles", params={"author": "bob"}).json()
    favorited = api.get("/articles", params={"favorited": "bob"}).json()
    combined = api.get("/articles", params={"tag": "python", "author": "alice"}).json()
    nobody = api.get("/articles", params={"author": "nobody"}).json()

    assert _slugs(by_tag) == [by_bob["slug"], tagged["slug"]]
    assert by_tag["articlesCount"] == 2
    assert _slugs(by_author) == [by_bob["slug"]]
    assert _slugs(favorited) == [plain["slug"]]
    assert favorited["articles"][0]["favoritesCount"] == 1
    assert _slugs(combined) == [tagged["slug"]]
    assert nobody == {"articles": [], "articlesCount": 0}


def test_list_shows_the_viewers_favorites_and_follows(
    api: Api, alice: Account, bob: Account
) -> None:
    slug = api.create_article(bob)["slug"]
    api.post(f"/articles/{slug}/favorite", user=alice)
    api.post("/profiles/bob/follow", user=alice)

    mine = api.get("/articles", user=alice).json()["articles"][0]
    anonymous = api.get("/articles").json()["articles"][0]

    assert (mine["favorited"], mine["author"]["following"]) == (True, True)
    assert (anonymous["favorited"], anonymous["author"]["following"]) == (False, False)


def test_listing_with_a_bad_token_is_a_401(api: Api) -> None:
    assert_error(api.get("/articles", headers={"Authorization": "Token nope"}), 401, "token")


def test_feed_has_only_followed_authors(api: Api, alice: Account, bob: Account) -> None:
    carol = api.register("carol")
    from_bob = [api.create_article(bob)["slug"] for _ in range(3)]
    api.create_article(carol)
    api.create_article(alice)
    api.post("/profiles/bob/follow", user=alice)

    feed = api.get("/articles/feed", user=alice).json()
    paged = api.get("/articles/feed", user=alice, params={"limit": 1, "offset": 1}).json()

    assert _slugs(feed) == from_bob[::-1]
    assert feed["articlesCount"] == 3
    assert all("body" not in article for article in feed["articles"])
    assert all(article["author"]["following"] for article in feed["articles"])
    assert _slugs(paged) == [from_bob[1]]
    assert paged["articlesCount"] == 3


def test_feed_is_empty_when_following_nobody(api: Api, alice: Account, bob: Account) -> None:
    api.create_article(bob)

    assert api.get("/articles/feed", user=alice).json() == {"articles": [], "articlesCount": 0}


def test_feed_needs_auth(api: Api) -> None:
    assert_error(api.get("/articles/feed"), 401, "token")
