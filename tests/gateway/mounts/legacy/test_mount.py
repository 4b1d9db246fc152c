"""The Flask app under /legacy behaves as it would served alone, over a real uvicorn server."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.forked import SHARED
from tests.gateway.probe import ProbeState
from tests.gateways import LEGACY_PROCESSES, conduit_gateway
from tests.serving import running_server
from tests.waiting import wait_until

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

INTERNAL_ERROR = {"errors": {"server": ["internal error"]}}


def test_url_for_carries_the_mount_prefix(probe: httpx.Client, probe_url: str) -> None:
    response = probe.get("/legacy/_probe/urls")

    assert response.status_code == 200
    assert response.json() == {
        "relative": "/legacy/_probe/target",
        "external": f"{probe_url}/legacy/_probe/target",
        "script_root": "/legacy",
        "path": "/_probe/urls",
    }


def test_redirects_point_inside_the_mount(probe: httpx.Client) -> None:
    response = probe.get("/legacy/_probe/redirect")
    followed = probe.get("/legacy/_probe/redirect", follow_redirects=True)

    assert response.status_code == 302
    assert response.headers["location"] == "/legacy/_probe/target"
    assert followed.status_code == 200
    assert followed.url.path == "/legacy/_probe/target"
    assert followed.json() == {"reached": "/_probe/target"}


def test_cookies_travel_both_ways(probe: httpx.Client) -> None:
    set_response = probe.get("/legacy/_probe/cookies/set")
    echoed = probe.get("/legacy/_probe/cookies")

    set_cookies = set_response.headers.get_list("set-cookie")
    assert len(set_cookies) == 2, "each Set-Cookie must stay a header of its own"
    assert any(c.startswith("flavour=oatmeal;") for c in set_cookies)
    assert any("session_hint=abc123;" in c and "HttpOnly" in c for c in set_cookies)
    assert echoed.json() == {"cookies": {"flavour": "oatmeal", "session_hint": "abc123"}}


def test_head_answers_headers_without_a_body(probe: httpx.Client) -> None:
    get = probe.get("/legacy/_probe/hello")
    head = probe.head("/legacy/_probe/hello")

    assert get.content == b"hello from flask\n"
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == "text/plain; charset=utf-8"
    assert head.headers["x-probe"] == "yes"


def test_a_streamed_response_arrives_chunk_by_chunk(
    probe: httpx.Client, probe_state: ProbeState
) -> None:
    chunks = [f"chunk {index}\n".encode() for index in range(4)]
    received = b""

    with probe.stream("GET", "/legacy/_probe/stream", params={"n": len(chunks)}) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        raw = response.iter_raw()
        for index in range(len(chunks)):
            expected = b"".join(chunks[: index + 1])
            # The view produces the next chunk only after this one has been received.
            while len(received) < len(expected):
                received += next(raw)
            assert received == expected
            probe_state.stream_steps.release()
        rest = b"".join(raw)

    assert rest == b""
    assert received == b"".join(chunks)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_multipart_upload_reaches_request_files_intact(probe: httpx.Client, framing: str) -> None:
    payload = os.urandom(1024 * 1024)
    request = probe.build_request(
        "POST",
        "/legacy/_probe/upload",
        data={"caption": "café ☕", "tag": ["a", "b"]},
        files={"upload": ("données.bin", payload, "application/octet-stream")},
    )
    if framing == "chunked":
        body = request.read()
        headers = {"content-type": request.headers["content-type"]}
        request = probe.build_request(
            "POST", "/legacy/_probe/upload", content=_in_chunks(body, 64 * 1024), headers=headers
        )

    response = probe.send(request)

    assert ("transfer-encoding" in response.request.headers) is (framing == "chunked")
    assert response.status_code == 200
    assert response.json() == {
        "form": {"caption": ["café ☕"], "tag": ["a", "b"]},
        "files": {
            "upload": {
                "filename": "données.bin",
                "content_type": "application/octet-stream",
                "length": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
            }
        },
    }


def test_query_strings_pass_intact(probe: httpx.Client) -> None:
    query = "tag=a&tag=b&name=%C3%A9t%C3%A9%20caf%C3%A9&plus=1+2&sym=%26%3D%2B&empty="

    response = probe.get(f"/legacy/_probe/query?{query}")

    assert response.json() == {
        "args": {
            "tag": ["a", "b"],
            "name": ["été café"],
            "plus": ["1 2"],
            "sym": ["&=+"],
            "empty": [""],
        },
        "query_string": query,
    }


def test_a_raising_view_answers_500_and_the_next_request_is_served(probe: httpx.Client) -> None:
    failed = probe.get("/legacy/_probe/boom")
    after = probe.get("/legacy/_probe/hello")

    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/json; charset=utf-8"
    assert failed.json() == INTERNAL_ERROR
    assert after.status_code == 200
    assert after.content == b"hello from flask\n"


@pytest.mark.skipif(
    bool(LEGACY_PROCESSES),
    reason="a legacy process's stderr is the one it was forked with, before this test's capture",
)
def test_wsgi_errors_goes_to_stderr(probe: httpx.Client, capfd: pytest.CaptureFixture[str]) -> None:
    marker = "probe-marker-7f3a"

    response = probe.get("/legacy/_probe/log", params={"marker": marker})

    assert response.status_code == 200
    out, err = capfd.readouterr()
    assert marker in err
    assert marker not in out


def _in_chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


CLOSES = SHARED.Value("i", 0)


class _Closing:
    """An answer's iterable that counts how often the server closes it (PEP 3333: once)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        with CLOSES.get_lock():
            CLOSES.value += 1


# /ticks streams a tick each time the test releases one; its end is recorded.
TICKS = SHARED.Semaphore(0)
TICKS_CLOSED = SHARED.Event()


def _ticks(start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        while TICKS.acquire(timeout=120):  # a generous end, only if the bridge never closes it
            yield b"tick\n"
    finally:
        TICKS_CLOSED.set()


# A WSGI app that is not Flask, raising past where Flask would have answered.
def _raising_wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/ticks":
        return _ticks(start_response)
    if environ["PATH_INFO"] == "/write":  # PEP 3333's legacy write(), then an iterable
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return _Closing([b"then ", b"returned\n"])
    if environ["PATH_INFO"] == "/declared":  # the whole declared length in the first chunk
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
        return _Closing(_never_past_the_first([b"whole\n"]))
    if environ["PATH_INFO"] == "/raise":
        raise RuntimeError("raised past the framework")
    if environ["PATH_INFO"] == "/raise-mid-stream":
        return _broken_stream(start_response)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"still serving\n"]


def _never_past_the_first(chunks: list[bytes]) -> Iterator[bytes]:
    yield chunks[0]
    raise AssertionError("asked for more than the declared Content-Length")


def _broken_stream(start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"first part\n"
    raise RuntimeError("failed mid-stream")


@pytest.fixture(scope="module")
def raw_wsgi_url(settings: Settings, database: Database, records: RecordStore) -> Iterator[str]:
    app = conduit_gateway(settings, database, records, legacy=_raising_wsgi)
    with running_server(app) as url:
        yield url


def test_an_app_raising_past_flask_still_answers_in_conduit_shape(raw_wsgi_url: str) -> None:
    with httpx.Client(base_url=raw_wsgi_url, timeout=30) as http:
        failed = http.get("/legacy/raise")
        after = http.get("/legacy/fine")

    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/json; charset=utf-8"
    assert failed.json() == INTERNAL_ERROR
    assert after.status_code == 200
    assert after.text == "still serving\n"


def test_a_stream_broken_mid_way_never_looks_complete(raw_wsgi_url: str) -> None:
    with (
        httpx.Client(base_url=raw_wsgi_url, timeout=30) as http,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        http.get("/legacy/raise-mid-stream")


def test_write_and_iterable_answers_arrive_in_order_and_are_closed_once(
    raw_wsgi_url: str,
) -> None:
    before = CLOSES.value
    with httpx.Client(base_url=raw_wsgi_url, timeout=30) as http:
        response = http.get("/legacy/write")

    assert response.status_code == 200
    assert response.text == "written, then returned\n"
    assert CLOSES.value == before + 1


def test_a_body_complete_at_its_declared_length_is_not_asked_for_more(raw_wsgi_url: str) -> None:
    before = CLOSES.value
    with httpx.Client(base_url=raw_wsgi_url, timeout=30) as http:
        response = http.get("/legacy/declared")
        after = http.get("/legacy/fine")

    assert (response.status_code, response.text) == (200, "whole\n")
    assert CLOSES.value == before + 1
    assert after.status_code == 200


def test_a_stream_stops_once_its_client_has_gone(raw_wsgi_url: str) -> None:
    """A legacy stream (a feed of events, say) is closed when its client leaves, instead of
    running on for nobody and holding one of the legacy app's turns."""
    TICKS_CLOSED.clear()
    TICKS.release()
    with (
        httpx.Client(base_url=raw_wsgi_url, timeout=30) as http,
        http.stream("GET", "/legacy/ticks") as response,
    ):
        first = next(response.iter_raw())

    # The client is gone. Each tick released lets the stream reach the bridge once more,
    # which then sees the disconnect and closes it.
    def closed() -> bool:
        if TICKS_CLOSED.wait(0.05):  # the wait itself paces the ticks
            return True
        TICKS.release()
        return False

    assert first == b"tick\n"
    # Fails, naming what it waited for, unless the bridge closes the stream.
    wait_until(closed, timeout=30, interval=0, message="the bridge to close the stream")
