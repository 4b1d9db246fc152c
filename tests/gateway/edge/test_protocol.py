"""The server edge, as `gateway serve` runs uvicorn: hostile clients meet deadlines and sizes.

Each test speaks raw HTTP over a socket where a well-behaved client library would not do what
an attacker does. Every read has its own deadline (the socket timeout); nothing here waits
for time to pass, only for the server to act.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from fastapi import FastAPI, Request
from flask import Flask, request

import legacy_flask
import v2 as conduit_v2
from gateway import cli
from gateway.app import create_app
from gateway.config.configuration import configure, load_config
from gateway.config.manifest import Manifest
from gateway.config.options import ServerOptions
from gateway.edge.problems import error_renderer, problem
from gateway.edge.protocol import GuardedHttpToolsProtocol, configure_protocol, uvicorn_settings
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.gateway.edge.answers import Answer, parsed_answers, parsed_head
from tests.gateway.probe import ProbeState, probe_blueprint
from tests.gateways import conduit_config, conduit_gateway
from tests.serving import running_server

# What it tests does not depend on the database: the SQLite pass runs it.
pytestmark = pytest.mark.any_database

LIMITS = ServerOptions(
    header_timeout_seconds=1.0,
    body_timeout_seconds=1.0,
    max_header_bytes=8 * 1024,
    max_headers=30,
)
READ_DEADLINE = 15.0
MIB = 1024 * 1024
# Past the largest body sent here: a body refused is refused by the edge, not by a body limit.
BODY_LIMIT = 2 * MIB


def _echo_v2(app: FastAPI) -> FastAPI:
    """Conduit's v2 app plus a view reporting the body it read, as the probe's legacy one does."""

    @app.post("/_probe/echo")
    async def echo(request: Request) -> dict[str, Any]:
        data = await request.body()
        length = request.headers.get("content-length")
        return {
            "length": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "content_length": int(length) if length is not None else None,
        }

    return app


@contextmanager
def _edge(
    settings: Settings, database: Database, records: RecordStore, **options: Any
) -> Iterator[str]:
    # What gateway.asgi does in a worker: the edge's limits and renderer, from its config.
    configure_protocol(LIMITS, error_renderer(conduit_config()))
    roomy = settings.model_copy(update={"max_body_bytes": BODY_LIMIT})
    legacy = legacy_flask.create_app(roomy, database=database)
    legacy.register_blueprint(probe_blueprint(ProbeState()))
    v2 = _echo_v2(conduit_v2.create_app(roomy, database=database))
    app = conduit_gateway(roomy, database, records, legacy=legacy, v2=v2, **options)
    try:
        with running_server(app, **uvicorn_settings(LIMITS)) as url:
            yield url
    finally:
        configure_protocol(ServerOptions(), problem)


@pytest.fixture(scope="module")
def edge(settings: Settings, database: Database, records: RecordStore) -> Iterator[str]:
    with _edge(settings, database, records) as url:
        yield url


@pytest.fixture(scope="module")
def rooted_edge(settings: Settings, database: Database, records: RecordStore) -> Iterator[str]:
    """The same edge with the legacy app at the root (``legacy_prefix = "/"``)."""
    with _edge(settings, database, records, legacy_prefix="/") as url:
        yield url


# (the server, the path its echo views are under): legacy under /legacy, v2, legacy at /.
SIDES = [("edge", "/legacy"), ("edge", "/v2"), ("rooted_edge", "")]
SIDE_IDS = ["legacy", "v2", "legacy at /"]


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _connect(url: str) -> socket.socket:
    sock = socket.create_connection(_address(url), timeout=READ_DEADLINE)
    return sock


def _received(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _answer(sock: socket.socket) -> Answer:
    """Read until the server closes: the status, headers and body it sent."""
    head, _, body = _received(sock).partition(b"\r\n\r\n")
    return *parsed_head(head), body


def _answers(sock: socket.socket) -> list[Answer]:
    """Read until the server closes: each answer it sent."""
    return parsed_answers(_received(sock))


def _assert_refused(answer: Answer, status: int, words: str) -> None:
    code, headers, body = answer
    assert code == status
    assert headers["connection"] == "close"
    assert headers["x-served-by"] == "gateway"
    assert json.loads(body) == {"errors": {"request": [words]}}


@pytest.mark.parametrize("side", ["/legacy", "/v2"])
def test_headers_that_never_end_are_cut_off(edge: str, side: str) -> None:
    with _connect(edge) as sock:
        sock.sendall(f"GET {side}/api/tags HTTP/1.1\r\nHost: test\r\nX-Slow: ".encode())
        # A slowloris trickles a byte at a time; the deadline runs from the request's first
        # byte, so the server answers while the header is still unfinished.
        for _ in range(200):
            sock.sendall(b"a")
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                break
        answer = _answer(sock)

    _assert_refused(answer, 408, "request timeout")


def test_a_connection_that_says_nothing_is_closed(edge: str) -> None:
    with _connect(edge) as sock:
        answer = _answer(sock)

    _assert_refused(answer, 408, "request timeout")


def _stalled_body(url: str, path: str) -> socket.socket:
    sock = _connect(url)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n".encode()
        + b'{"user": {'
    )
    return sock


def test_stalled_bodies_are_cut_off_and_free_the_legacy_threads(edge: str) -> None:
    # More stalled uploads than the legacy app has threads.
    stalled = [_stalled_body(edge, "/legacy/api/users") for _ in range(12)]
    try:
        answers = [_answer(sock) for sock in stalled]
    finally:
        for sock in stalled:
            sock.close()
    after = httpx.get(f"{edge}/legacy/api/tags", timeout=READ_DEADLINE)

    for answer in answers:
        _assert_refused(answer, 408, "request timeout")
    assert after.status_code == 200


def test_a_stalled_body_on_v2_is_cut_off_too(edge: str) -> None:
    with _stalled_body(edge, "/v2/api/users") as sock:
        answer = _answer(sock)

    _assert_refused(answer, 408, "request timeout")


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Big", "a" * 100_000)],
        [(f"X-Many-{n}", "1") for n in range(500)],
    ],
    ids=["100 KB header", "500 headers"],
)
@pytest.mark.parametrize("side", ["/legacy", "/v2"])
def test_headers_past_the_limits_are_refused(
    edge: str, side: str, headers: list[tuple[str, str]]
) -> None:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    with _connect(edge) as sock:
        sock.sendall(f"GET {side}/api/tags HTTP/1.1\r\nHost: test\r\n{lines}\r\n".encode())
        answer = _answer(sock)

    _assert_refused(answer, 431, "request header fields too large")


def _echo(side: str, body: bytes, *, headers: str = "", close: bool = True) -> bytes:
    """A POST of ``body`` to ``side``'s echo view: its head and body, to send as one write."""
    connection = "Connection: close\r\n" if close else ""
    head = (
        f"POST {side}/_probe/echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{connection}{headers}\r\n"
    )
    return head.encode() + body


def _echoed(body: bytes) -> dict[str, Any]:
    return {
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "content_length": len(body),
    }


def _json_body(size: int) -> bytes:
    return json.dumps({"article": {"body": "a" * size}}).encode()


@pytest.mark.parametrize("size", [100 * 1024, MIB], ids=["100 KB", "1 MB"])
@pytest.mark.parametrize(("server", "side"), SIDES, ids=SIDE_IDS)
def test_a_body_sent_in_one_write_with_its_headers_is_the_apps_to_read(
    request: pytest.FixtureRequest, server: str, side: str, size: int
) -> None:
    body = _json_body(size)
    with _connect(request.getfixturevalue(server)) as sock:
        # As clients send a POST: headers and body in one write, so they share the reads.
        sock.sendall(_echo(side, body))
        status, _, answer = _answer(sock)

    assert status == 200
    assert json.loads(answer) == _echoed(body)


@pytest.mark.parametrize(("server", "side"), SIDES, ids=SIDE_IDS)
def test_headers_past_the_limit_are_refused_when_a_body_follows_in_the_same_write(
    request: pytest.FixtureRequest, server: str, side: str
) -> None:
    sent = _echo(side, _json_body(100 * 1024), headers=f"X-Big: {'a' * 20_000}\r\n")
    with _connect(request.getfixturevalue(server)) as sock:
        sock.sendall(sent)
        answer = _answer(sock)

    _assert_refused(answer, 431, "request header fields too large")


@pytest.mark.parametrize("side", ["/legacy", "/v2"])
def test_requests_pipelined_after_a_body_are_each_answered(edge: str, side: str) -> None:
    first, second = _json_body(100 * 1024), _json_body(50 * 1024)
    with _connect(edge) as sock:
        sock.sendall(_echo(side, first, close=False) + _echo(side, second))
        answers = _answers(sock)

    assert [(status, json.loads(body)) for status, _, body in answers] == [
        (200, _echoed(first)),
        (200, _echoed(second)),
    ]


def test_an_ordinary_request_still_passes(edge: str) -> None:
    response = httpx.get(f"{edge}/v2/api/tags", headers={"X-Fine": "a" * 1000})

    assert response.status_code == 200


@pytest.mark.parametrize("side", ["/legacy", "/v2"])
def test_two_authorization_headers_are_refused_on_both_sides(
    client: httpx.Client, side: str
) -> None:
    response = client.get(
        f"{side}/api/user",
        headers=[("Authorization", "Token a.b.c"), ("Authorization", "Token d.e.f")],
    )

    assert response.status_code == 400
    assert response.headers["x-served-by"] == "gateway"
    assert response.json() == {"errors": {"request": ["bad request"]}}


def _who_asks() -> Flask:
    app = Flask("who")

    @app.get("/whoami")
    def whoami() -> Any:
        return {"address": request.remote_addr}

    return app


@pytest.mark.parametrize(("trusted", "seen"), [([], "127.0.0.1"), (["127.0.0.1"], "203.0.113.9")])
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    records: RecordStore, trusted: list[str], seen: str
) -> None:
    config = configure(Manifest(), environ={})
    app = create_app(config, legacy=_who_asks(), store=records)
    settings = uvicorn_settings(ServerOptions(trusted_proxies=trusted))
    with running_server(app, **settings) as url:
        answer = httpx.get(f"{url}/legacy/whoami", headers={"X-Forwarded-For": "203.0.113.9"})

    assert answer.json() == {"address": seen}


def test_gateway_serve_runs_uvicorn_with_the_guarded_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    monkeypatch.setenv("GATEWAY_DATABASE", f"sqlite:///{tmp_path / 'records.db'}")
    monkeypatch.setenv("GATEWAY_SERVER__HEADER_TIMEOUT_SECONDS", "3")
    monkeypatch.delenv("GATEWAY_SERVER__MAX_HEADERS", raising=False)

    # One worker is uvicorn.run's; forked workers are tests/gateway/cli/test_serve.py's.
    flags = ["--port", "8123", "--server-max-headers", "40"]
    result = CliRunner().invoke(cli.main, ["serve", *flags])

    assert result.exit_code == 0, result.output
    [(args, kwargs)] = calls
    assert args == ("gateway.asgi:app",)
    assert kwargs["http"] is GuardedHttpToolsProtocol
    assert (kwargs["port"], kwargs["proxy_headers"]) == (8123, False)
    assert (kwargs["timeout_keep_alive"], kwargs["limit_concurrency"]) == (5.0, 1000)
    # The workers read their configuration from the variables, flags exported as such.
    assert os.environ["GATEWAY_SERVER__MAX_HEADERS"] == "40"
    worker = load_config().options.server
    assert (worker.header_timeout_seconds, worker.max_headers) == (3.0, 40)


def test_a_request_the_parser_refuses_is_a_400_in_the_same_shape(edge: str) -> None:
    with _connect(edge) as sock:
        sock.sendall(b"GET /v2/api/tags HTTP/1.1\r\nHost: test\r\nContent-Length: -5\r\n\r\n")
        answer = _answer(sock)

    _assert_refused(answer, 400, "bad request")
