"""Request bodies without Content-Length reach Flask whole, within Flask's size limit."""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator

import httpx
import pytest
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.mounts.legacy.environ import TerminatedInput
from tests.gateway.conftest import PROBE_MAX_BODY

TOO_LARGE = {"errors": {"request": ["request entity too large"]}}


def _chunks(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _post_chunked(http: httpx.Client, path: str, data: bytes) -> httpx.Response:
    response = http.post(path, content=_chunks(data))
    # Guard the premise: the body really went without a Content-Length.
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    return response


def test_a_chunked_body_reaches_flask_whole(probe: httpx.Client) -> None:
    data = os.urandom(300 * 1024 + 7)

    response = _post_chunked(probe, "/legacy/_probe/echo", data)

    assert response.status_code == 200
    assert response.json() == {
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_length": None,
    }


def test_a_chunked_json_body_reaches_a_legacy_endpoint(client: httpx.Client) -> None:
    user = {"username": "chunky", "email": "chunky@example.com", "password": "pw-123456"}
    body = json.dumps({"user": user}).encode()

    response = client.post(
        "/legacy/api/users",
        content=_chunks(body, 10),
        headers={"content-type": "application/json"},
    )

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 201, response.text
    assert response.json()["user"]["username"] == "chunky"


def test_a_chunked_body_of_exactly_the_limit_is_accepted(probe: httpx.Client) -> None:
    data = os.urandom(PROBE_MAX_BODY)

    response = _post_chunked(probe, "/legacy/_probe/echo", data)

    assert response.status_code == 200
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [PROBE_MAX_BODY + 1, 4 * PROBE_MAX_BODY])
def test_a_chunked_body_over_the_limit_is_refused_not_truncated(
    probe: httpx.Client, size: int
) -> None:
    response = _post_chunked(probe, "/legacy/_probe/echo", os.urandom(size))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_a_sized_body_over_the_limit_is_refused_too(probe: httpx.Client) -> None:
    response = probe.post("/legacy/_probe/echo", content=os.urandom(PROBE_MAX_BODY + 1))

    assert "transfer-encoding" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


_READS: dict[str, Callable[[TerminatedInput], object]] = {
    "read": lambda stream: stream.read(),
    # Stops exactly at the limit, as Werkzeug does: the extra byte is found by probing.
    "read_exact": lambda stream: stream.read(10),
    "readline": lambda stream: (stream.readline(), stream.readline()),
    "iterate": list,
}


class TestTerminatedInput:
    """The reads Werkzeug does not use (readline, iteration) keep the same limit."""

    def test_reads_to_the_end_of_the_body(self) -> None:
        stream = TerminatedInput(io.BytesIO(b"abc\ndef"), limit=7)

        assert stream.read(2) == b"ab"
        assert stream.read() == b"c\ndef"
        assert stream.read() == b""

    def test_lines_and_iteration(self) -> None:
        assert TerminatedInput(io.BytesIO(b"a\nb\nc"), limit=5).readline() == b"a\n"
        assert list(TerminatedInput(io.BytesIO(b"a\nb\nc"), limit=5)) == [b"a\n", b"b\n", b"c"]

    @pytest.mark.parametrize("hint", [-1, 0, 1, 2, 3, 5])
    def test_readlines_takes_a_size_hint_like_io(self, hint: int) -> None:
        data = b"a\nb\nc"

        lines = TerminatedInput(io.BytesIO(data), limit=len(data)).readlines(hint)

        assert lines == io.BytesIO(data).readlines(hint)

    @pytest.mark.parametrize("consume", _READS.values(), ids=_READS.keys())
    def test_one_byte_over_the_limit_raises(
        self, consume: Callable[[TerminatedInput], object]
    ) -> None:
        stream = TerminatedInput(io.BytesIO(b"0123\n56789X"), limit=10)

        with pytest.raises(RequestEntityTooLarge):
            consume(stream)
