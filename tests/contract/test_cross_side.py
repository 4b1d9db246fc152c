"""One database, one token core: users, tokens and data cross between legacy and v2."""

from __future__ import annotations

import httpx
import pytest

from tests.conduit import Api


@pytest.fixture
def legacy(client: httpx.Client) -> Api:
    return Api(http=client, prefix="/legacy/api")


@pytest.fixture
def v2(client: httpx.Client) -> Api:
    return Api(http=client, prefix="/v2/api")


def test_register_on_legacy_then_act_on_v2(legacy: Api, v2: Api) -> None:
    alice = legacy.register("alice")

    me = v2.get("/user", user=alice)
    article = v2.create_article(alice, title="Written on v2", tagList=["cross"])

    assert me.status_code == 200
    assert me.json()["user"]["username"] == "alice"
    assert article["author"]["username"] == "alice"
    login = v2.post(
        "/users/login", json={"user": {"email": alice.email, "password": "correct-horse-battery"}}
    )
    assert login.status_code == 200


def test_an_article_from_v2_is_listed_favorited_and_commented_on_legacy(
    legacy: Api, v2: Api
) -> None:
    author = v2.register("author")
    reader = legacy.register("reader")
    slug = v2.create_article(author, title="From v2", tagList=["b", "a"])["slug"]

    listed = legacy.get("/articles", params={"tag": "a"}).json()
    favorited = legacy.post(f"/articles/{slug}/favorite", user=reader)
    comment = legacy.comment(reader, slug, "seen from legacy")

    assert [a["slug"] for a in listed["articles"]] == [slug]
    assert listed["articles"][0]["tagList"] == ["b", "a"]
    assert favorited.json()["article"]["favoritesCount"] == 1
    on_v2 = v2.get(f"/articles/{slug}", user=reader).json()["article"]
    assert (on_v2["favorited"], on_v2["favoritesCount"]) == (True, 1)
    assert v2.get(f"/articles/{slug}/comments").json()["comments"] == [comment]


@pytest.mark.parametrize(("issuer", "verifier"), [("legacy", "v2"), ("v2", "legacy")])
def test_tokens_cross_in_both_directions(legacy: Api, v2: Api, issuer: str, verifier: str) -> None:
    sides = {"legacy": legacy, "v2": v2}
    account = sides[issuer].register("traveller")

    response = sides[verifier].get("/user", user=account)

    assert response.status_code == 200
    assert response.json()["user"]["username"] == "traveller"


def test_both_sides_answer_the_same_article_identically(legacy: Api, v2: Api) -> None:
    alice = legacy.register("alice")
    bob = v2.register("bob")
    slug = legacy.create_article(alice, tagList=["x"])["slug"]
    legacy.post("/profiles/alice/follow", user=bob)
    v2.post(f"/articles/{slug}/favorite", user=bob)

    for path in (f"/articles/{slug}", "/articles", "/articles/feed", "/profiles/alice", "/tags"):
        from_legacy = legacy.get(path, user=bob)
        from_v2 = v2.get(path, user=bob)
        assert from_legacy.status_code == from_v2.status_code == 200, path
        assert from_legacy.json() == from_v2.json(), path


def test_bearer_is_a_v2_extension(legacy: Api, v2: Api) -> None:
    account = v2.register("bearer")
    bearer = {"Authorization": f"Bearer {account.token}"}

    assert v2.get("/user", headers=bearer).status_code == 200
    assert legacy.get("/user", headers=bearer).status_code == 401
