"""Articles: create, read, update, delete, favourites."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest

from tests.conduit import Account, Api, assert_error
from tests.inprocess import BASE_URL, InProcessTransport

ARTICLE_FIELDS = {
    "slug",
    "title",
    "description",
    "body",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}


def _is_utc_iso(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value).utcoffset() is not None


def test_create_article(api: Api, alice: Account) -> None:
    response = api.post(
        "/articles",
        user=alice,
        json={
            "article": {
                "title": "How to train your dragon",
                "description": "Ever wonder how?",
                "body": "You have to believe",
                "tagList": ["training", "dragons", "aardvark"],
            }
        },
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    article = response.json()["article"]
    assert set(article) == ARTICLE_FIELDS
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["tagList"] == ["training", "dragons", "aardvark"]  # the order given
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert article["author"] == {
        "username": "alice",
        "bio": None,
        "image": None,
        "following": False,
    }
    assert _is_utc_iso(article["createdAt"])
    assert article["createdAt"] == article["updatedAt"]


def test_create_article_without_tags_has_an_empty_tag_list(api: Api, alice: Account) -> None:
    assert api.create_article(alice)["tagList"] == []


def test_duplicate_titles_get_distinct_slugs(api: Api, alice: Account, bob: Account) -> None:
    first = api.create_article(alice, title="Same title")
    second = api.create_article(bob, title="Same title")

    assert first["slug"] == "same-title"
    assert second["slug"] != first["slug"]
    assert second["slug"].startswith("same-title")
    assert api.get(f"/articles/{second['slug']}").json()["article"]["author"]["username"] == "bob"


def test_duplicate_tags_are_kept_once(api: Api, alice: Account) -> None:
    article = api.create_article(alice, tagList=["a", " b ", "a", ""])

    assert article["tagList"] == ["a", "b"]


def test_server_owned_fields_cannot_be_set(api: Api, alice: Account, bob: Account) -> None:
    article = api.create_article(
        alice,
        slug="chosen-slug",
        favoritesCount=99,
        favorited=True,
        createdAt="2000-01-01T00:00:00.000Z",
        author={"username": "bob"},
        id=1234,
    )

    assert article["slug"] != "chosen-slug"
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert article["createdAt"] != "2000-01-01T00:00:00.000Z"
    assert article["author"]["username"] == "alice"


@pytest.mark.parametrize(
    ("article", "field"),
    [
        ({"description": "d", "body": "b"}, "title"),
        ({"title": " ", "description": "d", "body": "b"}, "title"),
        ({"title": "t", "body": "b"}, "description"),
        ({"title": "t", "description": "d"}, "body"),
        ({"title": "t", "description": "d", "body": "b", "tagList": None}, "tagList"),
        ({"title": "t", "description": "d", "body": "b", "tagList": "a,b"}, "tagList"),
        ({"title": "t", "description": "d", "body": "b", "tagList": ["a", 1]}, "tagList"),
        ({"title": 42, "description": "d", "body": "b"}, "title"),
        ({"title": "t" * 256, "description": "d", "body": "b"}, "title"),
    ],
)
def test_create_article_validates(
    api: Api, alice: Account, article: dict[str, object], field: str
) -> None:
    assert_error(api.post("/articles", user=alice, json={"article": article}), 422, field)


@pytest.mark.parametrize("field", ["title", "description", "body"])
def test_a_blank_required_article_field_cannot_be_blank(
    api: Api, alice: Account, field: str
) -> None:
    article = {"title": "T", "description": "D", "body": "B", field: "  "}

    response = api.post("/articles", user=alice, json={"article": article})

    assert response.status_code == 422
    assert response.json() == {"errors": {field: ["can't be blank"]}}


def test_create_article_needs_auth(api: Api) -> None:
    response = api.post(
        "/articles", json={"article": {"title": "t", "description": "d", "body": "b"}}
    )

    assert assert_error(response, 401, "token") == ["is missing"]


def test_get_article_by_slug(api: Api, alice: Account) -> None:
    created = api.create_article(alice, tagList=["x"])

    response = api.get(f"/articles/{created['slug']}")

    assert response.status_code == 200
    assert response.json() == {"article": created}


def test_unknown_article_is_a_404(api: Api) -> None:
    assert assert_error(api.get("/articles/no-such-slug"), 404, "article") == ["not found"]


# Updates ---------------------------------------------------------------------------------


def test_update_article_fields(api: Api, alice: Account) -> None:
    created = api.create_article(alice, tagList=["keep", "me"])

    response = api.put(
        f"/articles/{created['slug']}",
        user=alice,
        json={"article": {"body": "New body", "description": "New description"}},
    )

    assert response.status_code == 200
    article = response.json()["article"]
    assert (article["body"], article["description"]) == ("New body", "New description")
    assert article["title"] == created["title"]
    assert article["slug"] == created["slug"]
    assert article["tagList"] == ["keep", "me"]  # absent tagList keeps the tags
    assert article["updatedAt"] >= created["updatedAt"]
    assert article["createdAt"] == created["createdAt"]


def test_changing_the_title_changes_the_slug(api: Api, alice: Account) -> None:
    created = api.create_article(alice, title="Old title")

    response = api.put(
        f"/articles/{created['slug']}", user=alice, json={"article": {"title": "New title"}}
    )

    assert response.json()["article"]["slug"] == "new-title"
    assert api.get("/articles/new-title").status_code == 200
    assert api.get(f"/articles/{created['slug']}").status_code == 404


@pytest.mark.parametrize(
    ("tags", "expected"),
    [([], []), (["b", "a"], ["b", "a"]), (["me", "new"], ["me", "new"])],
)
def test_update_replaces_the_tag_list(
    api: Api, alice: Account, tags: list[str], expected: list[str]
) -> None:
    created = api.create_article(alice, tagList=["keep", "me"])

    response = api.put(
        f"/articles/{created['slug']}", user=alice, json={"article": {"tagList": tags}}
    )

    assert response.json()["article"]["tagList"] == expected
    assert api.get(f"/articles/{created['slug']}").json()["article"]["tagList"] == expected


@pytest.mark.parametrize(
    ("article", "field"),
    [
        ({"tagList": None}, "tagList"),
        ({"title": ""}, "title"),
        ({"body": None}, "body"),
        ({}, "body"),
    ],
)
def test_update_article_validates(
    api: Api, alice: Account, article: dict[str, object], field: str
) -> None:
    created = api.create_article(alice, tagList=["kept"])

    response = api.put(f"/articles/{created['slug']}", user=alice, json={"article": article})

    assert_error(response, 422, field)
    assert api.get(f"/articles/{created['slug']}").json()["article"]["tagList"] == ["kept"]


def test_updating_someone_elses_article_is_a_403(api: Api, alice: Account, bob: Account) -> None:
    created = api.create_article(alice)

    response = api.put(f"/articles/{created['slug']}", user=bob, json={"article": {"body": "x"}})

    assert assert_error(response, 403, "article") == ["forbidden"]
    assert api.get(f"/articles/{created['slug']}").json()["article"]["body"] == created["body"]


def test_update_unknown_article_is_a_404(api: Api, alice: Account) -> None:
    response = api.put("/articles/nope", user=alice, json={"article": {"body": "x"}})

    assert_error(response, 404, "article")


def test_update_needs_auth(api: Api, alice: Account) -> None:
    created = api.create_article(alice)

    assert_error(
        api.put(f"/articles/{created['slug']}", json={"article": {"body": "x"}}), 401, "token"
    )


# Deletes ---------------------------------------------------------------------------------


def test_delete_article_takes_its_comments_and_favorites(
    api: Api, alice: Account, bob: Account
) -> None:
    slug = api.create_article(alice, tagList=["solo"])["slug"]
    api.comment(bob, slug)
    api.post(f"/articles/{slug}/favorite", user=bob)

    response = api.delete(f"/articles/{slug}", user=alice)

    assert response.status_code == 204
    assert response.content == b""
    assert api.get(f"/articles/{slug}").status_code == 404
    assert api.get("/articles", params={"favorited": "bob"}).json()["articlesCount"] == 0
    assert api.get("/tags").json() == {"tags": []}


def test_deleting_someone_elses_article_is_a_403(api: Api, alice: Account, bob: Account) -> None:
    slug = api.create_article(alice)["slug"]

    assert_error(api.delete(f"/articles/{slug}", user=bob), 403, "article")
    assert api.get(f"/articles/{slug}").status_code == 200


def test_delete_unknown_article_is_a_404(api: Api, alice: Account) -> None:
    assert_error(api.delete("/articles/nope", user=alice), 404, "article")


def test_delete_needs_auth(api: Api, alice: Account) -> None:
    slug = api.create_article(alice)["slug"]

    assert_error(api.delete(f"/articles/{slug}"), 401, "token")


# Favourites ------------------------------------------------------------------------------


def test_favorite_and_unfavorite(api: Api, alice: Account, bob: Account) -> None:
    slug = api.create_article(alice)["slug"]

    favorited = api.post(f"/articles/{slug}/favorite", user=bob)
    again = api.post(f"/articles/{slug}/favorite", user=bob)
    by_alice = api.post(f"/articles/{slug}/favorite", user=alice)

    assert favorited.status_code == 200
    assert favorited.json()["article"]["favorited"] is True
    assert favorited.json()["article"]["favoritesCount"] == 1
    assert again.json()["article"]["favoritesCount"] == 1  # idempotent
    assert by_alice.json()["article"]["favoritesCount"] == 2
    assert api.get(f"/articles/{slug}").json()["article"]["favorited"] is False  # anonymous

    removed = api.delete(f"/articles/{slug}/favorite", user=bob)

    assert removed.status_code == 200
    assert removed.json()["article"]["favorited"] is False
    assert removed.json()["article"]["favoritesCount"] == 1


def test_favorite_unknown_article_is_a_404(api: Api, alice: Account) -> None:
    assert_error(api.post("/articles/nope/favorite", user=alice), 404, "article")
    assert_error(api.delete("/articles/nope/favorite", user=alice), 404, "article")


def test_favorite_needs_auth(api: Api, alice: Account) -> None:
    slug = api.create_article(alice)["slug"]

    assert_error(api.post(f"/articles/{slug}/favorite"), 401, "token")
    assert_error(api.delete(f"/articles/{slug}/favorite"), 401, "token")


def test_concurrent_favorites_count_once_per_user(
    api: Api, alice: Account, bob: Account, gateway_transport: InProcessTransport
) -> None:
    """The same favourite sent many times at once (a double-click, a retrying client) is one
    favourite, never a 500 from the second insert; different users' ones all count."""
    slug = api.create_article(alice)["slug"]
    others = [api.register() for _ in range(4)]
    senders = [bob] * 8 + others

    def send(account: Account) -> httpx.Response:
        # Each sender its own client; each request its own task on the app's loop, as on a
        # server, so these are in flight together.
        with httpx.Client(transport=gateway_transport, base_url=BASE_URL, timeout=30) as own:
            return Api(http=own, prefix=api.prefix).post(f"/articles/{slug}/favorite", user=account)

    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        responses = list(pool.map(send, senders))

    assert [r.status_code for r in responses] == [200] * len(senders), [r.text for r in responses]
    assert api.get(f"/articles/{slug}").json()["article"]["favoritesCount"] == 1 + len(others)
    assert api.get(f"/articles/{slug}", user=bob).json()["article"]["favorited"] is True
