"""Usernames are compared as identity systems compare them, on both sides alike."""

from __future__ import annotations

import pytest

from shared.identity import MIXED_SCRIPTS
from tests.conduit import PASSWORD, Account, Api

TAKEN = {"errors": {"username": ["has already been taken"]}}


def _register(api: Api, username: str, email: str) -> tuple[int, dict[str, object]]:
    body = {"user": {"username": username, "email": email, "password": PASSWORD}}
    response = api.post("/users", json=body)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "look_alike",
    ["alice", "ALICE", "\uff41\uff4c\uff49\uff43\uff45"],  # the last in full-width forms
    ids=["lower", "upper", "full-width"],
)
def test_one_name_whatever_its_case_or_width(api: Api, look_alike: str) -> None:
    assert _register(api, "Alice", "first@example.com")[0] == 201

    assert _register(api, look_alike, "second@example.com") == (409, TAKEN)


def test_case_folding_goes_beyond_lower_case(api: Api) -> None:
    assert _register(api, "Stra\u00dfe", "first@example.com")[0] == 201  # Straße

    assert _register(api, "strasse", "second@example.com") == (409, TAKEN)


def test_a_name_written_in_look_alike_letters_of_another_script_is_taken(api: Api) -> None:
    assert _register(api, "coco", "latin@example.com")[0] == 201

    # "coco" in Cyrillic letters (U+0441 U+043E): one script, the same look.
    assert _register(api, "\u0441\u043e\u0441\u043e", "cyrillic@example.com") == (409, TAKEN)


def test_a_name_mixing_scripts_is_refused(api: Api) -> None:
    # "alice" with a Cyrillic a (U+0430): made to look like someone else.
    status, body = _register(api, "\u0430lice", "mixed@example.com")

    assert status == 422
    assert body == {"errors": {"username": [MIXED_SCRIPTS]}}


def test_a_name_in_one_other_script_is_welcome(api: Api) -> None:
    status, body = _register(api, "\u0438\u0432\u0430\u043d", "ivan@example.com")  # иван

    assert status == 201
    assert body["user"]["username"] == "\u0438\u0432\u0430\u043d"  # type: ignore[index]


def test_renaming_to_another_users_name_in_other_case_is_taken(
    api: Api, alice: Account, bob: Account
) -> None:
    other = api.put("/user", user=bob, json={"user": {"username": "ALICE"}})
    own = api.put("/user", user=alice, json={"user": {"username": "ALICE"}})

    assert (other.status_code, other.json()) == (409, TAKEN)
    assert own.status_code == 200
    assert own.json()["user"]["username"] == "ALICE"
