"""Which bytes count against ``max_header_bytes``, with the reads cut where a test says.

The kernel decides how a client's writes are cut into reads, so a test through a real server
cannot choose where a read ends. These hand the reads to the guarded protocol themselves, as
the event loop would (``data_received``), on a real transport whose peer is the test's end of
a socket pair. Every read of an answer has its own deadline.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from gateway.config.options import ServerOptions
from gateway.edge.problems import problem
from gateway.edge.protocol import GuardedHttpToolsProtocol, configure_protocol
from tests.gateway.edge.answers import Answer, parsed_answers

LIMITS = ServerOptions(max_header_bytes=8 * 1024, max_headers=30)
READ_DEADLINE = 15.0
BODY = b"a" * (100 * 1024)


async def _sizes(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app answering with the path asked for and the length of the body it read; and a
    WebSocket's with "ready"."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "ready"})
        return
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    answer = json.dumps({"path": scope["path"], "size": size}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(autouse=True)
def _limits() -> Iterator[None]:
    configure_protocol(LIMITS, problem)
    yield
    configure_protocol(ServerOptions(), problem)


async def _serve(reads: list[bytes], until: bytes | None) -> bytes:
    """What the server sent for these reads, until it closed (or sent ``until``)."""
    loop = asyncio.get_running_loop()
    config = uvicorn.Config(_sizes, log_level="warning", lifespan="off")
    config.load()
    state = ServerState()
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    transport, protocol = await loop.connect_accepted_socket(
        lambda: GuardedHttpToolsProtocol(config=config, server_state=state, app_state={}), ours
    )
    try:
        for read in reads:
            protocol.data_received(read)
        data = b""
        while until is None or until not in data:
            chunk = await asyncio.wait_for(loop.sock_recv(theirs, 65536), READ_DEADLINE)
            if not chunk:
                break
            data += chunk
    finally:
        transport.close()
        theirs.close()
    return data


def _served(*reads: bytes) -> list[Answer]:
    return parsed_answers(asyncio.run(_serve(list(reads), until=None)))


def _head(path: str, *lines: str, close: bool = False) -> bytes:
    end = ["Connection: close"] if close else []
    return "\r\n".join([f"POST {path} HTTP/1.1", "Host: test", *lines, *end, "", ""]).encode()


def _post(path: str, body: bytes, *lines: str, close: bool = False) -> bytes:
    return _head(path, f"Content-Length: {len(body)}", *lines, close=close) + body


def _chunked(path: str, *chunks: bytes) -> bytes:
    framed = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    return _head(path, "Transfer-Encoding: chunked") + framed + b"0\r\n\r\n"


def _sizes_seen(answers: list[Answer]) -> list[tuple[int, dict[str, Any]]]:
    return [(status, json.loads(body)) for status, _, body in answers]


def _assert_refused(answer: Answer) -> None:
    status, headers, body = answer
    assert (status, headers["connection"]) == (431, "close")
    assert json.loads(body)["detail"] == "request headers too large"


@pytest.mark.parametrize("cut", [1, 2, 3, 4])
def test_a_blank_line_split_between_two_reads_still_ends_the_headers(cut: int) -> None:
    request = _post("/upload", BODY, close=True)
    headers_end = request.index(b"\r\n\r\n") + 4

    answers = _served(request[: headers_end - cut], request[headers_end - cut :])

    assert _sizes_seen(answers) == [(200, {"path": "/upload", "size": len(BODY)})]


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 431)])
def test_headers_count_up_to_their_blank_line_and_no_further(extra: int, status: int) -> None:
    short = _post("/upload", BODY, "X-Pad: ", close=True)
    headers_length = short.index(b"\r\n\r\n") + 4
    pad = "a" * (LIMITS.max_header_bytes - headers_length + extra)
    request = _post("/upload", BODY, f"X-Pad: {pad}", close=True)
    assert request.index(b"\r\n\r\n") + 4 == LIMITS.max_header_bytes + extra

    [answer] = _served(request)

    assert answer[0] == status


@pytest.mark.parametrize(
    ("first", "size"),
    [
        (_post("/first", BODY), len(BODY)),
        (_chunked("/first", BODY[:5000], b"\r\n\r\n", BODY[5000:]), len(BODY) + 4),
    ],
    ids=["with a length", "chunked, a blank line in its data"],
)
def test_requests_pipelined_after_a_body_in_one_read_are_each_answered(
    first: bytes, size: int
) -> None:
    answers = _served(first + _post("/second", b"xyz", close=True))

    assert _sizes_seen(answers) == [
        (200, {"path": "/first", "size": size}),
        (200, {"path": "/second", "size": 3}),
    ]


@pytest.mark.parametrize(
    "first",
    [_post("/first", BODY), _chunked("/first", BODY), b"\r\n\r\n"],
    ids=["with a length", "chunked", "blank lines"],
)
def test_headers_too_large_are_refused_after_a_body_in_the_same_read(first: bytes) -> None:
    too_large = _post("/second", b"", f"X-Big: {'a' * 10_000}", close=True)

    *_, last = _served(first + too_large)

    _assert_refused(last)


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_headers_after_a_chunked_body_whose_end_two_reads_split_are_counted(cut: int) -> None:
    first = _chunked("/first", BODY)
    read = first + _post("/second", b"", f"X-Big: {'a' * 10_000}", close=True)

    *_, last = _served(read[: len(first) - cut], read[len(first) - cut :])

    _assert_refused(last)


def test_what_follows_an_upgrade_in_its_read_is_not_parsed_as_http() -> None:
    handshake = (
        b"GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    early_frame = b"\x81\x82\x00\x00\x00\x00hi"  # a client's "hi", sent before the 101

    sent = asyncio.run(_serve([handshake + early_frame], until=b"ready"))

    assert sent.startswith(b"HTTP/1.1 101 ")
    assert b"ready" in sent
    assert b"400 Bad Request" not in sent
