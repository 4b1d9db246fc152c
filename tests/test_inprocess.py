"""The in-process client the suite speaks to apps with (tests/inprocess.py)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.inprocess import in_process

DEADLINE = 10  # seconds, for waits on the app's own thread


def _app(events: list[str], cancelled: threading.Event) -> Starlette:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    async def whoami(request: Request) -> Response:
        assert request.client is not None
        return JSONResponse(
            {
                "client": request.client.host,
                "server": list(request.scope["server"]),
                "greeting": request.state.greeting,
            }
        )

    async def upload(request: Request) -> Response:
        chunks = [chunk async for chunk in request.stream() if chunk]
        headers = request.headers
        return JSONResponse(
            {
                "chunks": [chunk.decode() for chunk in chunks],
                "length": headers.get("content-length"),
                "encoding": headers.get("transfer-encoding"),
            }
        )

    async def set_cookie(_request: Request) -> Response:
        response = Response("set")
        response.set_cookie("flavour", "oat")
        return response

    async def read_cookie(request: Request) -> Response:
        return Response(request.cookies.get("flavour", "none"))

    async def crash(_request: Request) -> Response:
        raise RuntimeError("boom")

    async def hang(_request: Request) -> Response:
        try:
            await asyncio.Event().wait()  # never set: only the client's deadline ends this
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/whoami", whoami),
            Route("/upload", upload, methods=["POST"]),
            Route("/set", set_cookie),
            Route("/read", read_cookie),
            Route("/crash", crash),
            Route("/hang", hang),
        ],
    )


@pytest.fixture
def events() -> list[str]:
    return []


@pytest.fixture
def cancelled() -> threading.Event:
    return threading.Event()


@pytest.fixture
def http(events: list[str], cancelled: threading.Event) -> Iterator[httpx.Client]:
    with in_process(_app(events, cancelled)) as client:
        yield client


def test_the_lifespan_runs_once_around_the_block(
    events: list[str], cancelled: threading.Event
) -> None:
    with in_process(_app(events, cancelled)) as http:
        assert events == ["startup"]
        answers = [http.get("/whoami").json() for _ in range(2)]

    assert events == ["startup", "shutdown"]
    # As uvicorn on loopback would say, with the lifespan's state in each request.
    assert (
        answers == [{"client": "127.0.0.1", "server": ["testserver", 80], "greeting": "hello"}] * 2
    )


def test_a_chunked_upload_arrives_in_its_chunks(http: httpx.Client) -> None:
    response = http.post("/upload", content=iter([b"one", b"two", b"three"]))

    assert response.json() == {
        "chunks": ["one", "two", "three"],
        "length": None,
        "encoding": "chunked",
    }
    assert http.post("/upload", content=b"whole").json() == {
        "chunks": ["whole"],
        "length": "5",
        "encoding": None,
    }


def test_cookies_persist_in_the_client(http: httpx.Client) -> None:
    assert http.get("/read").text == "none"
    http.get("/set")

    assert http.get("/read").text == "oat"


def test_an_exception_is_a_logged_500_as_on_a_server(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tests.inprocess"):
        response = http.get("/crash")

    assert response.status_code == 500
    assert "boom" in caplog.text
    assert http.get("/whoami").status_code == 200  # and the app serves on


def test_an_app_that_never_answers_ends_at_the_clients_deadline(
    http: httpx.Client, cancelled: threading.Event
) -> None:
    with pytest.raises(httpx.ReadTimeout):
        http.get("/hang", timeout=0.2)

    assert cancelled.wait(DEADLINE)  # the abandoned request's task is cancelled


def test_a_failed_startup_is_raised() -> None:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    with pytest.raises(RuntimeError, match="no database"), in_process(Starlette(lifespan=lifespan)):
        pass
