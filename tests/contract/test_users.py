"""Registration, login and the current user."""

from __future__ import annotations

import pytest

from tests.conduit import PASSWORD, Account, Api, assert_error


def test_register_returns_the_user_with_a_working_token(api: Api) -> None:
    response = api.post(
        "/users",
        json={"user": {"username": "carol", "email": "Carol@Example.com", "password": PASSWORD}},
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    user = response.json()["user"]
    assert set(user) == {"email", "token", "username", "bio", "image"}
    assert user["email"] == "carol@example.com"
    assert (user["username"], user["bio"], user["image"]) == ("carol", None, None)
    me = api.get("/user", headers={"Authorization": f"Token {user['token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "carol"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "alice"}, "username"),
        ({"email": "ALICE@example.com"}, "email"),
    ],
)
def test_register_refuses_a_taken_username_or_email(
    api: Api, alice: Account, overrides: dict[str, str], field: str
) -> None:
    body = {"username": "other", "email": "other@example.com", "password": PASSWORD, **overrides}

    response = api.post("/users", json={"user": body})

    assert assert_error(response, 409, field) == ["has already been taken"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@example.com", "password": PASSWORD}, "username"),
        ({"username": "x", "password": PASSWORD}, "email"),
        ({"username": "x", "email": "x@example.com"}, "password"),
        ({"username": "   ", "email": "x@example.com", "password": PASSWORD}, "username"),
        ({"username": "a b", "email": "x@example.com", "password": PASSWORD}, "username"),
        ({"username": "x", "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"username": "x", "email": "x@example.com", "password": "short"}, "password"),
        ({"username": None, "email": "x@example.com", "password": PASSWORD}, "username"),
        ({"username": 7, "email": "x@example.com", "password": PASSWORD}, "username"),
    ],
)
def test_register_validates_each_field(api: Api, body: dict[str, object], field: str) -> None:
    assert_error(api.post("/users", json={"user": body}), 422, field)


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_a_blank_required_field_cannot_be_blank(api: Api, field: str) -> None:
    body = {"username": "blank", "email": "blank@example.com", "password": PASSWORD, field: ""}

    response = api.post("/users", json={"user": body})

    assert response.status_code == 422
    assert response.json() == {"errors": {field: ["can't be blank"]}}


def test_register_names_every_missing_field(api: Api) -> None:
    errors = api.post("/users", json={"user": {}}).json()["errors"]

    assert errors == {
        "username": ["can't be blank"],
        "email": ["can't be blank"],
        "password": ["can't be blank"],
    }


@pytest.mark.parametrize(
    ("content", "field"),
    [(b"{not json", "body"), (b"[]", "user"), (b'{"user": "x"}', "user"), (b"{}", "user")],
)
def test_a_malformed_body_is_a_422(api: Api, content: bytes, field: str) -> None:
    response = api.post("/users", content=content, headers={"Content-Type": "application/json"})

    assert_error(response, 422, field)


def test_a_body_without_content_type_is_read_as_json(api: Api) -> None:
    body = b'{"user": {"username": "eve", "email": "eve@example.com", "password": "long-enough"}}'

    response = api.post("/users", content=body)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_a_422(api: Api, content_type: str) -> None:
    body = b'{"user": {"username": "eve", "email": "eve@example.com", "password": "long-enough"}}'

    response = api.post("/users", content=body, headers={"Content-Type": content_type})

    assert assert_error(response, 422, "body") == ["must be a JSON object"]


def test_unknown_and_server_owned_fields_are_ignored(api: Api) -> None:
    response = api.post(
        "/users",
        json={
            "user": {
                "username": "dave",
                "email": "dave@example.com",
                "password": PASSWORD,
                "id": 999,
                "token": "forged",
                "bio": "set at signup",
            }
        },
    )

    user = response.json()["user"]
    assert response.status_code == 201
    assert user["token"] != "forged"
    assert user["bio"] is None


def test_login_with_the_right_password(api: Api, alice: Account) -> None:
    response = api.post(
        "/users/login", json={"user": {"email": "Alice@Example.com", "password": PASSWORD}}
    )

    assert response.status_code == 200
    user = response.json()["user"]
    assert user["username"] == "alice"
    assert api.get("/user", headers={"Authorization": f"Token {user['token']}"}).is_success


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "alice@example.com", "password": "wrong-password"},
        {"email": "nobody@example.com", "password": PASSWORD},
    ],
)
def test_login_with_bad_credentials_is_a_401(
    api: Api, alice: Account, credentials: dict[str, str]
) -> None:
    response = api.post("/users/login", json={"user": credentials})

    assert response.json() == {"errors": {"credentials": ["invalid"]}}
    assert assert_error(response, 401, "credentials") == ["invalid"]


def test_login_without_a_password_is_a_422(api: Api) -> None:
    assert_error(api.post("/users/login", json={"user": {"email": "a@b.c"}}), 422, "password")


@pytest.mark.parametrize(
    "authorization",
    [None, "Token", "Token not-a-jwt", "Basic abc", "Token a.b.c"],
)
def test_current_user_needs_a_valid_token(api: Api, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    assert_error(api.get("/user", headers=headers), 401, "token")


def test_update_user_changes_only_the_given_fields(api: Api, alice: Account) -> None:
    response = api.put(
        "/user", user=alice, json={"user": {"bio": "I write", "image": "https://img/a.png"}}
    )

    assert response.status_code == 200
    user = response.json()["user"]
    assert (user["bio"], user["image"]) == ("I write", "https://img/a.png")
    assert (user["username"], user["email"]) == ("alice", "alice@example.com")
    assert api.get("/user", user=alice).json()["user"]["bio"] == "I write"


@pytest.mark.parametrize("empty", ["", None])
def test_update_user_stores_empty_bio_and_image_as_null(
    api: Api, alice: Account, empty: str | None
) -> None:
    api.put("/user", user=alice, json={"user": {"bio": "x", "image": "y"}})

    response = api.put("/user", user=alice, json={"user": {"bio": empty, "image": empty}})

    assert response.status_code == 200
    assert (response.json()["user"]["bio"], response.json()["user"]["image"]) == (None, None)


def test_update_user_password_then_log_in_with_it(api: Api, alice: Account) -> None:
    api.put("/user", user=alice, json={"user": {"password": "a-new-password"}})

    old = api.post("/users/login", json={"user": {"email": alice.email, "password": PASSWORD}})
    new = api.post(
        "/users/login", json={"user": {"email": alice.email, "password": "a-new-password"}}
    )

    assert old.status_code == 401
    assert new.status_code == 200


def test_update_user_refuses_a_taken_username(api: Api, alice: Account, bob: Account) -> None:
    response = api.put("/user", user=alice, json={"user": {"username": "bob"}})

    assert_error(response, 409, "username")


def test_update_user_to_own_username_is_no_conflict(api: Api, alice: Account) -> None:
    response = api.put("/user", user=alice, json={"user": {"username": "alice"}})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "body"), ({"email": "nope"}, "email"), ({"username": None}, "username")],
)
def test_update_user_validates(
    api: Api, alice: Account, body: dict[str, object], field: str
) -> None:
    assert_error(api.put("/user", user=alice, json={"user": body}), 422, field)


def test_update_user_needs_auth(api: Api) -> None:
    assert_error(api.put("/user", json={"user": {"bio": "x"}}), 401, "token")
