"""Shadow state: legacy answers, v2 is replayed afterwards, and every comparison is recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import delete, select

import v2 as conduit_v2
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison, ShadowDrop
from shared.db import Database
from shared.settings import Settings
from tests.conduit import Api
from tests.gateways import conduit_gateway
from tests.serving import running_server
from tests.waiting import wait_until
from v2.deps import get_database, get_viewer_id


def _manifest(ignore: list[str] | None = None) -> str:
    return f"""\
[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/**"]
state = "shadow"
shadow_sample_rate = 1.0
ignore = {ignore or []!r}
"""


@pytest.fixture(autouse=True)
def _no_records(records: RecordStore) -> Iterator[None]:
    yield
    with records.session() as session, session.begin():
        session.execute(delete(ShadowComparison))
        session.execute(delete(ShadowDrop))


@contextmanager
def shadow_gateway(
    settings: Settings,
    database: Database,
    records: RecordStore,
    *,
    ignore: list[str] | None = None,
    overrides: dict[Callable[..., Any], Callable[..., Any]] | None = None,
    **shadow: Any,
) -> Iterator[tuple[Api, Api]]:
    v2_app = conduit_v2.create_app(settings, database=database)
    v2_app.dependency_overrides.update(overrides or {})
    app = conduit_gateway(
        settings, database, records, manifest=_manifest(ignore), v2=v2_app, shadow=shadow
    )
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield Api(http, "/legacy/api"), Api(http, "/v2/api")


def _stored(records: RecordStore) -> list[ShadowComparison]:
    """The comparisons stored so far, oldest first."""
    with records.session() as session:
        return list(session.scalars(select(ShadowComparison).order_by(ShadowComparison.id)))


def _records(records: RecordStore, count: int, *, timeout: float = 10) -> list[ShadowComparison]:
    """The stored comparisons, once there are at least ``count`` of them (the shadow runs
    after the answer)."""

    def found() -> list[ShadowComparison]:
        rows = _stored(records)
        return rows if len(rows) >= count else []

    return wait_until(found, timeout=timeout, message=f"{count} shadow comparisons")


class Gate:
    """A v2 dependency that holds every replay until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = threading.Event()

    async def __call__(self) -> None:
        # Waits in a worker thread so the server's event loop stays free; never forever.
        await anyio.to_thread.run_sync(self.opened.wait, 20)
        raise RuntimeError("held by the gate")


def test_a_matching_answer_is_recorded_without_credentials(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    with shadow_gateway(settings, database, records) as (legacy, v2):
        alice = v2.register("alice")
        slug = v2.create_article(alice)["slug"]

        response = legacy.get(f"/articles/{slug}", user=alice, headers={"Cookie": "sid=secret"})
        (record,) = _records(records, 1)

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
    settings: Settings, database: Database, records: RecordStore
) -> None:
    # The planted bug: v2 forgets who is asking, so `favorited` comes back false.
    forgetful = {get_viewer_id: lambda: None}
    with shadow_gateway(settings, database, records, overrides=forgetful) as (legacy, _v2):
        alice = legacy.register("alice")
        slug = legacy.create_article(alice)["slug"]
        legacy.post(f"/articles/{slug}/favorite", user=alice)

        response = legacy.get(f"/articles/{slug}", user=alice)
        records = _records(records, 1)

    assert response.json()["article"]["favorited"] is True  # the client got legacy's answer
    (record,) = records  # the POSTs were never replayed
    assert record.outcome == "mismatched"
    assert record.signature == "root['article']['favorited']"
    assert record.diff == {
        "values_changed": {"root['article']['favorited']": {"new_value": False, "old_value": True}}
    }


def test_an_ignore_rule_suppresses_the_mismatch(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    forgetful = {get_viewer_id: lambda: None}
    with shadow_gateway(
        settings, database, records, overrides=forgetful, ignore=["article.favorited"]
    ) as (
        legacy,
        _v2,
    ):
        alice = legacy.register("alice")
        slug = legacy.create_article(alice)["slug"]
        legacy.post(f"/articles/{slug}/favorite", user=alice)

        legacy.get(f"/articles/{slug}", user=alice)
        (record,) = _records(records, 1)

    assert record.outcome == "matched"


def _broken_database() -> None:
    raise RuntimeError("planted failure")


def test_a_v2_exception_never_reaches_the_client(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    broken = {get_database: _broken_database}
    with shadow_gateway(settings, database, records, overrides=broken) as (legacy, _v2):
        response = legacy.get("/articles")
        again = legacy.get("/articles")
        records = _records(records, 2)

    assert (response.status_code, again.status_code) == (200, 200)
    assert response.json() == {"articles": [], "articlesCount": 0}
    assert [r.outcome for r in records] == ["error", "error"]
    assert records[0].error is not None
    assert "planted failure" in records[0].error


def test_the_client_never_waits_for_the_replay(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    gate = Gate()
    try:
        with shadow_gateway(settings, database, records, overrides={get_database: gate}) as (
            legacy,
            _v2,
        ):
            # The replay is held until the gate opens: had the client waited for it, this
            # request could only end by the client's own timeout.
            response = legacy.get("/articles")
            stored_before = len(_stored(records))
            gate.opened.set()
            (record,) = _records(records, 1)
    finally:
        gate.opened.set()

    assert response.status_code == 200
    assert stored_before == 0
    assert record.outcome == "error"
    assert record.error is not None
    assert "held by the gate" in record.error


def test_a_slow_v2_is_recorded_as_a_timeout(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    gate = Gate()
    try:
        with shadow_gateway(
            settings, database, records, overrides={get_database: gate}, timeout_seconds=0.2
        ) as (legacy, _v2):
            response = legacy.get("/articles")
            (record,) = _records(records, 1)
    finally:
        gate.opened.set()

    assert response.status_code == 200
    assert record.outcome == "error"
    assert record.error == "v2 did not answer within 0.2 s"


def test_a_full_queue_drops_and_counts_samples(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    gate = Gate()
    try:
        with shadow_gateway(
            settings, database, records, overrides={get_database: gate}, queue_size=1
        ) as (legacy, _v2):
            answers = [legacy.get("/articles").status_code for _ in range(8)]
            # One sample is held by the gate, at most one waits; the rest were dropped.
            gate.opened.set()

            def accounted() -> tuple[int, int] | None:
                """(dropped, recorded) once every sample is one or the other."""
                with records.session() as session:
                    dropped = session.scalar(select(ShadowDrop.dropped)) or 0
                recorded = len(_stored(records))
                return (dropped, recorded) if dropped + recorded >= 8 else None

            dropped, recorded = wait_until(
                accounted, timeout=10, message="all 8 samples dropped or recorded"
            )
    finally:
        gate.opened.set()

    assert answers == [200] * 8
    assert dropped >= 5
    assert dropped + recorded == 8
