"""A write burst: 50 registrations and 50 article posts sent at once, through the gateway
against the legacy app alone on gunicorn (4 sync workers, as a team would run it).

Registrations hash a password (argon2: CPU in C, off the interpreter lock), posts write rows.
What counts is what a client sees: how many were served, how many got a 503, anything else,
and how long the last one took. Every request has a client timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass

import httpx

from servers import Server

REGISTRATIONS = 50
POSTS = 50
# Long past any wait the servers impose: a request still unanswered then is counted as such.
CLIENT_TIMEOUT_SECONDS = 120.0
_runs = itertools.count()


@dataclass(frozen=True)
class BurstFigures:
    served: int  # 2xx
    refused: int  # 503
    other: int  # any other status, or no answer in time
    seconds: float  # until the last answer


async def _burst(api: str, token: str, run: int) -> BurstFigures:
    author = {"Authorization": f"Token {token}"}
    limits = httpx.Limits(max_connections=REGISTRATIONS + POSTS)
    async with httpx.AsyncClient(
        base_url=api, timeout=CLIENT_TIMEOUT_SECONDS, limits=limits
    ) as http:

        async def register(n: int) -> int:
            name = f"burst{run}x{n}"
            user = {"username": name, "email": f"{name}@example.com", "password": "burst-pw-123"}
            return (await http.post("/users", json={"user": user})).status_code

        async def post(n: int) -> int:
            article = {"title": f"Burst {run} {n}", "description": "d", "body": "b"}
            answer = await http.post("/articles", json={"article": article}, headers=author)
            return answer.status_code

        started = time.monotonic()
        jobs = [register(n) for n in range(REGISTRATIONS)] + [post(n) for n in range(POSTS)]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        seconds = time.monotonic() - started
    statuses = Counter(r if isinstance(r, int) else 0 for r in results)
    served = sum(n for status, n in statuses.items() if 200 <= status < 300)
    refused = statuses[503]
    return BurstFigures(served, refused, len(results) - served - refused, seconds)


def burst(api: str, token: str) -> BurstFigures:
    """One burst against the Conduit API under ``api`` (its ``/api`` URL)."""
    return asyncio.run(_burst(api, token, next(_runs)))


def burst_table(gateway: Server, gunicorn: Server, token: str) -> list[str]:
    lines = [
        f"| {REGISTRATIONS} registrations + {POSTS} posts at once | served | 503 | other "
        "| seconds to the last answer |",
        "|---|---|---|---|---|",
    ]
    for name, api in (
        ("gateway serve (legacy under /legacy)", f"{gateway.base}/legacy/api"),
        ("gunicorn, 4 sync workers", f"{gunicorn.base}/api"),
    ):
        figures = burst(api, token)
        lines.append(
            f"| {name} | {figures.served} | {figures.refused} | {figures.other} "
            f"| {figures.seconds:.1f} |"
        )
    return lines
