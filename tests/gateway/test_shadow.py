"""Shadow state: legacy answers, v2 is replayed afterwards, and every comparison is recorded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import select

from gateway.app import create_app
from gateway.manifest import parse_manifest
from shared.db import Database
from shared.models import ShadowComparison, ShadowDrop
from shared.settings import Settings, ShadowSettings
from tests.conduit import Api
from tests.serving import running_server
from v2.deps import get_optional_user, get_session


def _manifest(ignore: list[str] | None = None) -> str:
    return f"""\
[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/**"]
state = "shadow"
shadow_sample_rate = 1.0
ignore = {ignore or []!r}
"""


@contextmanager
def shadow_gateway(
    settings: Settings,
    database: Database,
    *,
    ignore: list[str] | None = None,
    overrides: dict[Callable[..., Any], Callable[..., Any]] | None = None,
    **shadow: Any,
) -> Iterator[tuple[Api, Api]]:
    custom = settings.model_copy(update={"shadow": ShadowSettings(**shadow)})
    app = create_app(custom, database=database, manifest=parse_manifest(_manifest(ignore)))
    app.dependency_overrides.update(overrides or {})
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield Api(http, "/legacy/api"), Api(http, "/v2/api")


def _records(database: Database, count: int, *, timeout: float = 10) -> list[ShadowComparison]:
    """Wait until ``count`` comparisons are stored (the shadow runs after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        with database.session(write=False) as session:
            rows = list(session.scalars(select(ShadowComparison).order_by(ShadowComparison.id)))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_a_matching_answer_is_recorded_without_credentials(
    settings: Settings, database: Database
) -> None:
    with shadow_gateway(settings, database) as (legacy, v2):
        alice = v2.register("alice")
        slug = v2.create_article(alice)["slug"]

        response = legacy.get(f"/articles/{slug}", user=alice, headers={"Cookie": "sid=secret"})
        (record,) = _records(database, 1)

    assert response.status_code == 200
    assert response.headers["x-served-by"] == "legacy"
    assert (record.module, record.outcome) == ("articles", "matched")
    assert (record.legacy_status, record.v2_status) == (200, 200)
    assert record.diff is None
    assert record.request["path"] == f"/legacy/api/articles/{slug}"
    assert record.request["authenticated"] is True
    stored = repr(record.request)
    assert alice.token not in stored
    assert "secret" not in stored


def test_a_planted_mismatch_is_recorded_with_its_diff(
    settings: Settings, database: Database
) -> None:
    # The planted bug: v2 forgets who is asking, so `favorited` comes back false.
    forgetful = {get_optional_user: lambda: None}
    with shadow_gateway(settings, database, overrides=forgetful) as (legacy, _v2):
        alice = legacy.register("alice")
        slug = legacy.create_article(alice)["slug"]
        legacy.post(f"/articles/{slug}/favorite", user=alice)

        response = legacy.get(f"/articles/{slug}", user=alice)
        records = _records(database, 1)

    assert response.json()["article"]["favorited"] is True  # the client got legacy's answer
    (record,) = records  # the POSTs were never replayed
    assert record.outcome == "mismatched"
    assert record.signature == "root['article']['favorited']"
    assert record.diff == {
        "values_changed": {"root['article']['favorited']": {"new_value": False, "old_value": True}}
    }


def test_an_ignore_rule_suppresses_the_mismatch(settings: Settings, database: Database) -> None:
    forgetful = {get_optional_user: lambda: None}
    with shadow_gateway(settings, database, overrides=forgetful, ignore=["article.favorited"]) as (
        legacy,
        _v2,
    ):
        alice = legacy.register("alice")
        slug = legacy.create_article(alice)["slug"]
        legacy.post(f"/articles/{slug}/favorite", user=alice)

        legacy.get(f"/articles/{slug}", user=alice)
        (record,) = _records(database, 1)

    assert record.outcome == "matched"


def _broken_session() -> None:
    raise RuntimeError("planted failure")


def test_a_v2_exception_never_reaches_the_client(settings: Settings, database: Database) -> None:
    with shadow_gateway(settings, database, overrides={get_session: _broken_session}) as (
        legacy,
        _v2,
    ):
        response = legacy.get("/articles")
        again = legacy.get("/articles")
        records = _records(database, 2)

    assert (response.status_code, again.status_code) == (200, 200)
    assert response.json() == {"articles": [], "articlesCount": 0}
    assert [r.outcome for r in records] == ["error", "error"]
    assert records[0].error is not None
    assert "planted failure" in records[0].error


async def _slow_session() -> None:
    await asyncio.sleep(1.0)


def test_a_slow_v2_is_recorded_as_a_timeout(settings: Settings, database: Database) -> None:
    with shadow_gateway(
        settings, database, overrides={get_session: _slow_session}, timeout_seconds=0.2
    ) as (legacy, _v2):
        started = time.monotonic()
        response = legacy.get("/articles")
        elapsed = time.monotonic() - started
        (record,) = _records(database, 1)

    assert response.status_code == 200
    assert elapsed < 1.0  # the client never waited for the shadow
    assert record.outcome == "error"
    assert record.error == "v2 did not answer within 0.2 s"


def test_a_full_queue_drops_and_counts_samples(settings: Settings, database: Database) -> None:
    with shadow_gateway(
        settings, database, overrides={get_session: _slow_session}, queue_size=1, timeout_seconds=5
    ) as (legacy, _v2):
        answers = [legacy.get("/articles").status_code for _ in range(8)]
        # At most one sample runs and one waits; the rest were dropped. Wait for them to land.
        deadline = time.monotonic() + 10
        dropped = 0
        while time.monotonic() < deadline:
            with database.session(write=False) as session:
                dropped = session.scalar(select(ShadowDrop.dropped)) or 0
            recorded = len(_records(database, 0))
            if dropped + recorded == 8:
                break
            time.sleep(0.1)

    assert answers == [200] * 8
    assert dropped >= 5
    assert dropped + recorded == 8
