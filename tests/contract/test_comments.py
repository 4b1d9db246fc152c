"""Comments on articles."""

from __future__ import annotations

from tests.conduit import Account, Api, assert_error


def test_add_and_list_comments_newest_first(api: Api, alice: Account, bob: Account) -> None:
    slug = api.create_article(alice)["slug"]

    first = api.post(f"/articles/{slug}/comments", user=bob, json={"comment": {"body": "one"}})
    api.comment(alice, slug, "two")

    assert first.status_code == 201
    comment = first.json()["comment"]
    assert set(comment) == {"id", "createdAt", "updatedAt", "body", "author"}
    assert comment["body"] == "one"
    assert comment["author"] == {
        "username": "bob",
        "bio": None,
        "image": None,
        "following": False,
    }
    listed = api.get(f"/articles/{slug}/comments")
    assert listed.status_code == 200
    assert [c["body"] for c in listed.json()["comments"]] == ["two", "one"]


def test_comment_authors_show_whether_the_viewer_follows_them(
    api: Api, alice: Account, bob: Account
) -> None:
    slug = api.create_article(alice)["slug"]
    api.comment(bob, slug)
    api.post("/profiles/bob/follow", user=alice)

    mine = api.get(f"/articles/{slug}/comments", user=alice).json()["comments"]
    anonymous = api.get(f"/articles/{slug}/comments").json()["comments"]

    assert mine[0]["author"]["following"] is True
    assert anonymous[0]["author"]["following"] is False


def test_comments_of_an_unknown_article_are_a_404(api: Api, alice: Account) -> None:
    assert_error(api.get("/articles/nope/comments"), 404, "article")
    response = api.post("/articles/nope/comments", user=alice, json={"comment": {"body": "x"}})
    assert_error(response, 404, "article")


def test_commenting_needs_auth(api: Api, alice: Account) -> None:
    slug = api.create_article(alice)["slug"]

    response = api.post(f"/articles/{slug}/comments", json={"comment": {"body": "x"}})

    assert_error(response, 401, "token")


def test_a_blank_comment_is_a_422(api: Api, alice: Account) -> None:
    slug = api.create_article(alice)["slug"]

    response = api.post(f"/articles/{slug}/comments", user=alice, json={"comment": {"body": " "}})

    assert assert_error(response, 422, "body") == ["can't be blank"]


def test_delete_own_comment(api: Api, alice: Account, bob: Account) -> None:
    slug = api.create_article(alice)["slug"]
    comment = api.comment(bob, slug)

    response = api.delete(f"/articles/{slug}/comments/{comment['id']}", user=bob)

    assert response.status_code == 204
    assert response.content == b""
    assert api.get(f"/articles/{slug}/comments").json() == {"comments": []}


def test_deleting_someone_elses_comment_is_a_403(api: Api, alice: Account, bob: Account) -> None:
    slug = api.create_article(alice)["slug"]
    comment = api.comment(bob, slug)

    response = api.delete(f"/articles/{slug}/comments/{comment['id']}", user=alice)

    assert assert_error(response, 403, "comment") == ["forbidden"]
    assert len(api.get(f"/articles/{slug}/comments").json()["comments"]) == 1


def test_deleting_an_unknown_comment_is_a_404(api: Api, alice: Account) -> None:
    slug = api.create_article(alice)["slug"]
    other_slug = api.create_article(alice)["slug"]
    comment = api.comment(alice, other_slug)

    assert_error(api.delete(f"/articles/{slug}/comments/999999", user=alice), 404, "comment")
    # A comment id is only found under the article it belongs to.
    response = api.delete(f"/articles/{slug}/comments/{comment['id']}", user=alice)
    assert_error(response, 404, "comment")


def test_deleting_a_comment_needs_auth(api: Api, alice: Account) -> None:
    slug = api.create_article(alice)["slug"]
    comment = api.comment(alice, slug)

    assert_error(api.delete(f"/articles/{slug}/comments/{comment['id']}"), 401, "token")
