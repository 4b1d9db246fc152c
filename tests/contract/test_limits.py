"""Bodies past the limit, nested past the parser, or not UTF-8: one answer on both sides."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import legacy_flask
import v2
from shared.settings import Settings
from tests.conduit import Account, Api
from tests.conftest import TEST_MAX_BODY_BYTES
from tests.inprocess import in_process

TOO_LARGE = {"errors": {"request": ["request entity too large"]}}
UNREADABLE = {"errors": {"body": ["must be a JSON object"]}}


def _article(size: int) -> bytes:
    """An article request of exactly ``size`` bytes."""
    frame = json.dumps({"article": {"title": "Big", "description": "D", "body": ""}})
    return frame.replace('"body": ""', '"body": "' + "x" * (size - len(frame)) + '"').encode()


def _count(api: Api) -> int:
    count: int = api.get("/articles").json()["articlesCount"]
    return count


def test_a_body_at_the_limit_is_taken(api: Api, alice: Account) -> None:
    response = api.post("/articles", user=alice, content=_article(TEST_MAX_BODY_BYTES))

    assert response.status_code == 201, response.text


def test_a_declared_length_past_the_limit_is_a_413(api: Api, alice: Account) -> None:
    response = api.post("/articles", user=alice, content=_article(TEST_MAX_BODY_BYTES + 1))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert _count(api) == 0


def _chunks(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_chunked_body_past_the_limit_is_a_413_and_nothing_is_stored(
    api: Api, alice: Account
) -> None:
    body = _article(TEST_MAX_BODY_BYTES * 2)

    response = api.post("/articles", user=alice, content=_chunks(body))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert _count(api) == 0


def test_a_chunked_body_within_the_limit_is_taken(api: Api, alice: Account) -> None:
    response = api.post("/articles", user=alice, content=_chunks(_article(100_000)))

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "content",
    [
        b'{"user": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"user": {"email": "\xff\xfe@example.com", "password": "12345678"}}',
    ],
    ids=["nested 100000 deep", "not UTF-8"],
)
def test_an_unreadable_body_is_the_same_422(api: Api, content: bytes) -> None:
    response = api.post(
        "/users/login", content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json() == UNREADABLE


def test_the_limit_holds_without_the_gateway_too() -> None:
    """Each app enforces the same limit itself; the gateway's edge is not the only guard."""
    settings = Settings(max_body_bytes=1000, jwt={"secret": "x" * 40})
    legacy = legacy_flask.create_app(settings).test_client()
    legacy_answer = legacy.post("/api/users", data=b"x" * 1001)
    with in_process(v2.create_app(settings)) as http:
        v2_answer = http.post("/api/users", content=b"x" * 1001)

    assert (legacy_answer.status_code, v2_answer.status_code) == (413, 413)
    assert legacy_answer.get_json() == v2_answer.json() == TOO_LARGE


@pytest.mark.parametrize("offset", ["2147483648", "99999999999999999999"])
def test_an_offset_past_any_row_count_is_a_422(api: Api, offset: str) -> None:
    response = api.get("/articles", params={"offset": offset})

    assert response.status_code == 422
    assert response.json() == {"errors": {"offset": ["must be between 0 and 2147483647"]}}


@pytest.mark.parametrize("comment_id", ["2147483648", "99999999999999999999"])
def test_an_id_no_row_can_have_is_not_found(api: Api, alice: Account, comment_id: str) -> None:
    slug = api.create_article(alice)["slug"]

    response = api.delete(f"/articles/{slug}/comments/{comment_id}", user=alice)

    assert response.status_code == 404
    assert response.json() == {"errors": {"comment": ["not found"]}}
