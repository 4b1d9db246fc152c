"""The HTML pages: the notes list, the new-note form, a note's page, the stylesheet."""

from __future__ import annotations

import re

import httpx

from tests.examples.helpers import NOTES_DIR, MakeUser, csrf_token, sign_in


def _write(http: httpx.Client, title: str, body: str) -> httpx.Response:
    form = http.get("/notes/new")
    assert form.status_code == 200
    return http.post(
        "/notes/new", data={"csrf_token": csrf_token(form.text), "title": title, "body": body}
    )


def test_the_root_redirects_to_the_notes(http: httpx.Client) -> None:
    response = http.get("/")

    assert response.status_code == 302
    assert response.headers["location"] == "/notes"


def test_a_new_user_has_no_notes(http: httpx.Client, make_user: MakeUser) -> None:
    make_user("grace", "grace-password")
    sign_in(http, "grace", "grace-password")

    page = http.get("/notes")

    assert page.status_code == 200
    assert "No notes yet." in page.text


def test_notes_written_through_the_form_appear_on_the_list(
    http: httpx.Client, make_user: MakeUser
) -> None:
    make_user("grace", "grace-password")
    sign_in(http, "grace", "grace-password")

    first = _write(http, "Compiler", "A-0, for the UNIVAC I")
    second = _write(http, "Bug", "Relay #70, panel F\nfirst actual case")
    second_page = http.get(second.headers["location"])
    listing = http.get("/notes")

    first_url = first.headers["location"]
    second_url = second.headers["location"]
    assert (first.status_code, second.status_code) == (302, 302)
    assert re.fullmatch(r"/notes/\d+", first_url)
    assert re.fullmatch(r"/notes/\d+", second_url)
    assert second_page.status_code == 200
    assert "Note saved." in second_page.text
    assert "<h2>Bug</h2>" in second_page.text
    assert '<div class="body">Relay #70, panel F\nfirst actual case</div>' in second_page.text
    links = re.findall(r'<a href="(/notes/\d+)">([^<]*)</a>', listing.text)
    assert links == [(second_url, "Bug"), (first_url, "Compiler")]  # newest first
    assert "Note saved." not in listing.text  # a flashed message is shown once


def test_a_note_without_a_title_is_not_saved(http: httpx.Client, make_user: MakeUser) -> None:
    make_user("grace", "grace-password")
    sign_in(http, "grace", "grace-password")

    response = _write(http, "", "no title")

    assert response.status_code == 200
    assert "This field is required." in response.text
    assert "No notes yet." in http.get("/notes").text


def test_notes_are_shown_as_text_not_markup(http: httpx.Client, make_user: MakeUser) -> None:
    make_user("grace", "grace-password")
    sign_in(http, "grace", "grace-password")

    page = http.get(_write(http, "<script>alert(1)</script>", "<b>bold?</b>").headers["location"])

    assert "<h2>&lt;script&gt;alert(1)&lt;/script&gt;</h2>" in page.text
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page.text
    assert "<script>alert" not in page.text


def test_another_users_note_is_not_found(
    http: httpx.Client, other_http: httpx.Client, make_user: MakeUser
) -> None:
    make_user("grace", "grace-password")
    make_user("alan", "alan-password")
    sign_in(http, "grace", "grace-password")
    note_url = _write(http, "Mine", "only mine").headers["location"]
    sign_in(other_http, "alan", "alan-password")

    response = other_http.get(note_url)

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Not Found</h1>" in response.text
    assert "No notes yet." in other_http.get("/notes").text
    assert http.get(note_url).status_code == 200


def test_the_stylesheet_is_served_and_linked(http: httpx.Client) -> None:
    page = http.get("/login")

    response = http.get("/static/style.css")

    assert '<link rel="stylesheet" href="/static/style.css">' in page.text
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.content == (NOTES_DIR / "notes_app" / "static" / "style.css").read_bytes()
