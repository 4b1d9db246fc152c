"""Profiles and follows."""

from __future__ import annotations

from tests.conduit import Account, Api, assert_error


def test_get_profile_anonymously(api: Api, alice: Account) -> None:
    api.put("/user", user=alice, json={"user": {"bio": "hi"}})

    response = api.get("/profiles/alice")

    assert response.status_code == 200
    assert response.json() == {
        "profile": {"username": "alice", "bio": "hi", "image": None, "following": False}
    }


def test_unknown_profile_is_a_404(api: Api) -> None:
    assert assert_error(api.get("/profiles/nobody"), 404, "profile") == ["not found"]


def test_follow_then_unfollow(api: Api, alice: Account, bob: Account) -> None:
    followed = api.post("/profiles/bob/follow", user=alice)

    assert followed.status_code == 200
    assert followed.json()["profile"]["following"] is True
    assert api.get("/profiles/bob", user=alice).json()["profile"]["following"] is True
    # Following is per viewer: bob's view of himself and anonymous views are unchanged.
    assert api.get("/profiles/bob").json()["profile"]["following"] is False

    unfollowed = api.delete("/profiles/bob/follow", user=alice)

    assert unfollowed.status_code == 200
    assert unfollowed.json()["profile"]["following"] is False
    assert api.get("/profiles/bob", user=alice).json()["profile"]["following"] is False


def test_following_twice_is_idempotent(api: Api, alice: Account, bob: Account) -> None:
    api.post("/profiles/bob/follow", user=alice)

    again = api.post("/profiles/bob/follow", user=alice)

    assert again.status_code == 200
    assert again.json()["profile"]["following"] is True


def test_follow_needs_auth(api: Api, bob: Account) -> None:
    assert_error(api.post("/profiles/bob/follow"), 401, "token")
    assert_error(api.delete("/profiles/bob/follow"), 401, "token")


def test_follow_unknown_user_is_a_404(api: Api, alice: Account) -> None:
    assert_error(api.post("/profiles/nobody/follow", user=alice), 404, "profile")
    assert_error(api.delete("/profiles/nobody/follow", user=alice), 404, "profile")


def test_following_yourself_is_refused(api: Api, alice: Account) -> None:
    assert_error(api.post("/profiles/alice/follow", user=alice), 422, "profile")
