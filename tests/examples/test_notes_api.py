"""The JSON API: tokens (fresh, refreshed, revoked, in cookies) and the caller's notes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest

from tests.examples.helpers import MakeUser, api_tokens, bearer

MISSING_JWT = (
    "Missing JWT in headers or cookies "
    '(Missing Authorization Header; Missing cookie "access_token_cookie")'
)


@pytest.fixture
def grace(http: httpx.Client, make_user: MakeUser) -> dict[str, str]:
    """Grace's tokens from signing in: a fresh access token and a refresh token."""
    make_user("grace", "grace-password")
    return api_tokens(http, "grace", "grace-password")


def _create(http: httpx.Client, token: str, title: str, body: str = "") -> httpx.Response:
    return http.post("/api/notes", json={"title": title, "body": body}, headers=bearer(token))


def test_signing_in_gives_a_fresh_access_token_and_a_refresh_token(
    http: httpx.Client, make_user: MakeUser
) -> None:
    make_user("grace", "grace-password")

    response = http.post("/api/token", json={"username": "grace", "password": "grace-password"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert sorted(response.json()) == ["access_token", "refresh_token"]
    assert all(re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", t) for t in response.json().values())


@pytest.mark.parametrize(
    ("username", "password"), [("grace", "wrong-password"), ("nobody", "grace-password")]
)
def test_bad_credentials_get_no_token(
    http: httpx.Client, make_user: MakeUser, username: str, password: str
) -> None:
    make_user("grace", "grace-password")

    response = http.post("/api/token", json={"username": username, "password": password})

    assert response.status_code == 401
    assert response.json() == {"msg": "Bad username or password"}
    assert not http.cookies


def test_a_token_request_needs_a_username_and_a_password(http: httpx.Client) -> None:
    response = http.post("/api/token", json={"username": "grace"})

    assert response.status_code == 422
    assert response.json() == {
        "msg": "Invalid request body",
        "errors": {"password": ["Missing data for required field."]},
    }


def test_notes_need_a_token(http: httpx.Client) -> None:
    response = http.get("/api/notes")

    assert response.status_code == 401
    assert response.json() == {"msg": MISSING_JWT}


def test_notes_are_created_listed_and_read_by_their_owner(
    http: httpx.Client, grace: dict[str, str]
) -> None:
    token = grace["access_token"]

    first = _create(http, token, "Compiler", "A-0")
    second = _create(http, token, "Bug", "Relay #70")
    listing = http.get("/api/notes", headers=bearer(token))
    one = http.get(first.headers["location"], headers=bearer(token))

    assert first.status_code == 201
    note = first.json()
    assert sorted(note) == ["body", "created_at", "id", "title"]
    assert (note["title"], note["body"]) == ("Compiler", "A-0")
    assert first.headers["location"] == f"/api/notes/{note['id']}"
    created_at = datetime.fromisoformat(note["created_at"])
    assert created_at.utcoffset() == timedelta(0)  # UTC, on SQLite as on PostgreSQL
    assert listing.status_code == 200
    assert listing.json() == {"notes": [second.json(), note]}  # newest first
    assert one.status_code == 200
    assert one.json() == note


def test_a_note_needs_a_title(http: httpx.Client, grace: dict[str, str]) -> None:
    response = _create(http, grace["access_token"], "")

    assert response.status_code == 422
    assert response.json() == {
        "msg": "Invalid request body",
        "errors": {"title": ["Length must be between 1 and 200."]},
    }


def test_other_users_notes_are_not_found(
    http: httpx.Client, make_user: MakeUser, grace: dict[str, str]
) -> None:
    make_user("alan", "alan-password")
    alan = api_tokens(http, "alan", "alan-password")
    note_id = _create(http, grace["access_token"], "Mine").json()["id"]

    read = http.get(f"/api/notes/{note_id}", headers=bearer(alan["access_token"]))
    delete = http.delete(f"/api/notes/{note_id}", headers=bearer(alan["access_token"]))
    listing = http.get("/api/notes", headers=bearer(alan["access_token"]))

    assert read.status_code == 404
    assert read.json() == {"msg": "Note not found"}
    assert delete.status_code == 404
    assert listing.json() == {"notes": []}
    assert (
        http.get(f"/api/notes/{note_id}", headers=bearer(grace["access_token"])).json()["title"]
        == "Mine"
    )


def test_a_refreshed_token_reads_but_cannot_delete(
    http: httpx.Client, grace: dict[str, str]
) -> None:
    note_id = _create(http, grace["access_token"], "Keep").json()["id"]

    refreshed = http.post("/api/token/refresh", headers=bearer(grace["refresh_token"]))
    access_token = refreshed.json()["access_token"]
    listing = http.get("/api/notes", headers=bearer(access_token))
    refused = http.delete(f"/api/notes/{note_id}", headers=bearer(access_token))
    still_there = http.get(f"/api/notes/{note_id}", headers=bearer(access_token))

    assert refreshed.status_code == 200
    assert list(refreshed.json()) == ["access_token"]
    assert access_token != grace["access_token"]
    assert [n["id"] for n in listing.json()["notes"]] == [note_id]
    assert refused.status_code == 401
    assert refused.json() == {"msg": "Fresh token required"}
    assert still_there.status_code == 200


def test_a_fresh_token_deletes(http: httpx.Client, grace: dict[str, str]) -> None:
    note_id = _create(http, grace["access_token"], "Gone soon").json()["id"]

    deleted = http.delete(f"/api/notes/{note_id}", headers=bearer(grace["access_token"]))
    after = http.get(f"/api/notes/{note_id}", headers=bearer(grace["access_token"]))

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert after.status_code == 404
    assert http.get("/api/notes", headers=bearer(grace["access_token"])).json() == {"notes": []}


def test_only_a_refresh_token_refreshes(http: httpx.Client, grace: dict[str, str]) -> None:
    response = http.post("/api/token/refresh", headers=bearer(grace["access_token"]))

    assert response.status_code == 422
    assert response.json() == {"msg": "Only refresh tokens are allowed"}


def test_a_revoked_token_is_refused(http: httpx.Client, grace: dict[str, str]) -> None:
    revoked = http.delete("/api/token", headers=bearer(grace["access_token"]))
    refused = http.get("/api/notes", headers=bearer(grace["access_token"]))
    # Revoking the access token leaves the refresh token valid...
    refreshed = http.post("/api/token/refresh", headers=bearer(grace["refresh_token"]))
    new_token = refreshed.json()["access_token"]
    # ...until it is revoked too.
    revoked_refresh = http.delete("/api/token", headers=bearer(grace["refresh_token"]))
    refused_refresh = http.post("/api/token/refresh", headers=bearer(grace["refresh_token"]))

    assert revoked.status_code == 200
    assert revoked.json() == {"msg": "Token revoked"}
    assert refused.status_code == 401
    assert refused.json() == {"msg": "Token has been revoked"}
    assert refreshed.status_code == 200
    assert http.get("/api/notes", headers=bearer(new_token)).status_code == 200
    assert revoked_refresh.json() == {"msg": "Token revoked"}
    assert refused_refresh.status_code == 401
    assert refused_refresh.json() == {"msg": "Token has been revoked"}


def test_cookie_tokens_need_the_csrf_header_to_change_anything(
    http: httpx.Client, make_user: MakeUser
) -> None:
    make_user("grace", "grace-password")
    signed_in = http.post("/api/token", json={"username": "grace", "password": "grace-password"})
    csrf = http.cookies["csrf_access_token"]

    read = http.get("/api/notes")
    no_header = http.post("/api/notes", json={"title": "No header"})
    wrong_header = http.post(
        "/api/notes", json={"title": "Wrong header"}, headers={"X-CSRF-TOKEN": "forged"}
    )
    with_header = http.post(
        "/api/notes", json={"title": "With header"}, headers={"X-CSRF-TOKEN": csrf}
    )

    assert signed_in.status_code == 200
    assert http.cookies["access_token_cookie"] == signed_in.json()["access_token"]
    assert http.cookies["refresh_token_cookie"] == signed_in.json()["refresh_token"]
    assert read.status_code == 200
    assert read.json() == {"notes": []}
    assert no_header.status_code == 401
    assert no_header.json() == {"msg": "Missing CSRF token"}
    assert wrong_header.status_code == 401
    assert wrong_header.json() == {"msg": "CSRF double submit tokens do not match"}
    assert with_header.status_code == 201
    assert [n["title"] for n in http.get("/api/notes").json()["notes"]] == ["With header"]


def test_revoking_a_cookie_token_clears_its_cookie(http: httpx.Client, make_user: MakeUser) -> None:
    make_user("grace", "grace-password")
    http.post("/api/token", json={"username": "grace", "password": "grace-password"})

    revoked = http.delete("/api/token", headers={"X-CSRF-TOKEN": http.cookies["csrf_access_token"]})

    assert revoked.json() == {"msg": "Token revoked"}
    assert "access_token_cookie" not in http.cookies
    assert http.get("/api/notes").json() == {"msg": MISSING_JWT}


def test_api_errors_are_json_while_pages_stay_html(
    http: httpx.Client, grace: dict[str, str]
) -> None:
    unknown = http.get("/api/nothing-here")
    wrong_method = http.put("/api/notes", headers=bearer(grace["access_token"]))
    not_json = http.post("/api/notes", content="title=x", headers=bearer(grace["access_token"]))
    page = http.get("/nothing-here")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/json"
    assert unknown.json()["msg"].startswith("The requested URL was not found on the server.")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"msg": "The method is not allowed for the requested URL."}
    assert not_json.status_code == 415
    assert not_json.json()["msg"].startswith("Did not attempt to load JSON data")
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
