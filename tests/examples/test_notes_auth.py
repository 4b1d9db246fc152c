"""Signing in to the HTML pages: Flask-Login sessions, Flask-WTF forms with CSRF tokens."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.examples.helpers import MakeUser, csrf_token, sign_in


def test_pages_redirect_to_the_login_page_with_next(http: httpx.Client) -> None:
    response = http.get("/notes")

    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fnotes"


def test_the_login_page_is_a_form_with_a_csrf_token(http: httpx.Client) -> None:
    page = http.get("/login")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert 'id="username" maxlength="80" name="username" required type="text"' in page.text
    assert 'id="password" name="password" required type="password"' in page.text
    # Flask-WTF's token: a value signed with SECRET_KEY by itsdangerous (value.time.signature).
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", csrf_token(page.text))


def test_a_login_post_without_the_csrf_token_is_refused(
    http: httpx.Client, make_user: MakeUser
) -> None:
    make_user("grace", "grace-password")
    http.get("/login")

    response = http.post("/login", data={"username": "grace", "password": "grace-password"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "The CSRF token is missing." in response.text
    assert http.get("/notes").status_code == 302


def test_a_login_post_with_a_forged_csrf_token_is_refused(
    http: httpx.Client, make_user: MakeUser
) -> None:
    make_user("grace", "grace-password")
    http.get("/login")

    response = http.post(
        "/login",
        data={"csrf_token": "forged", "username": "grace", "password": "grace-password"},
    )

    assert response.status_code == 400
    assert "The CSRF token is invalid." in response.text
    assert http.get("/notes").status_code == 302


def test_a_wrong_password_shows_the_form_again(http: httpx.Client, make_user: MakeUser) -> None:
    make_user("grace", "grace-password")

    response = sign_in(http, "grace", "not-her-password")

    assert response.status_code == 200
    assert "Wrong username or password." in response.text
    assert 'value="grace"' in response.text  # what was typed stays in the form
    assert http.get("/notes").status_code == 302


def test_signing_in_goes_to_next(http: httpx.Client, make_user: MakeUser) -> None:
    make_user("grace", "grace-password")
    page = http.get("/login", params={"next": "/notes/new"})

    # No action on the form: a browser posts back to the URL it is on, ?next= included.
    response = http.post(
        "/login?next=%2Fnotes%2Fnew",
        data={"csrf_token": csrf_token(page.text), "username": "grace", "password": "x"},
    )
    assert response.status_code == 200  # wrong password first: the form again
    response = http.post(
        "/login?next=%2Fnotes%2Fnew",
        data={
            "csrf_token": csrf_token(response.text),
            "username": "grace",
            "password": "grace-password",
        },
    )

    assert response.status_code == 302
    assert response.headers["location"] == "/notes/new"
    assert http.get("/notes/new").status_code == 200


@pytest.mark.parametrize(
    "next_url", ["//evil.example/", "https://evil.example/", "/\\evil.example/", "notes"]
)
def test_next_leading_off_the_site_is_ignored(
    http: httpx.Client, make_user: MakeUser, next_url: str
) -> None:
    make_user("grace", "grace-password")
    token = csrf_token(http.get("/login").text)

    response = http.post(
        "/login",
        params={"next": next_url},
        data={"csrf_token": token, "username": "grace", "password": "grace-password"},
    )

    assert response.status_code == 302
    assert response.headers["location"] == "/notes"


def test_signing_out_ends_the_session(http: httpx.Client, make_user: MakeUser) -> None:
    make_user("grace", "grace-password")
    assert sign_in(http, "grace", "grace-password").status_code == 302
    notes = http.get("/notes")
    assert notes.status_code == 200
    assert "grace" in notes.text

    response = http.post("/logout", data={"csrf_token": csrf_token(notes.text)})

    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    assert "You are signed out." in http.get("/login").text
    assert http.get("/notes").headers["location"] == "/login?next=%2Fnotes"


def test_signing_out_needs_the_csrf_token(http: httpx.Client, make_user: MakeUser) -> None:
    make_user("grace", "grace-password")
    sign_in(http, "grace", "grace-password")

    response = http.post("/logout")

    assert response.status_code == 400
    assert http.get("/notes").status_code == 200
