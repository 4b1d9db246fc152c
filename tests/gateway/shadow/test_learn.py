"""``gateway parity learn`` finds what legacy answers differently each time, by kind.

The Conduit legacy app is planted with a random field (``nonce``, a UUID) and a moving
timestamp (``servedAt``) on every JSON answer. Its article list is shadowed through a real
server; learning then sends the recorded requests to legacy twice and keeps where the two
answers differ: the planted fields, each as its kind, and nothing stable (``articlesCount``,
the articles themselves). ``gateway parity`` proposes the lines to paste, and applies none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

import legacy_flask
import v2 as conduit_v2
from gateway.app import create_app
from gateway.cli import main
from gateway.config.configuration import load_config
from gateway.records.store import RecordStore
from gateway.records.tables import NoiseRun, ShadowComparison
from shared.db import Database
from shared.settings import Settings
from tests.conduit import Api
from tests.planted import plant, shadowed
from tests.serving import running_server
from tests.waiting import wait_until

MODULE = "planted-articles"
REQUESTS = 12
# The apps the manifest's import strings return: the ones this test built (the CLI loads a
# team's app by its import string; these stand for one).
_BUILT: dict[str, Any] = {}


def planted_legacy() -> Flask:
    return _BUILT["legacy"]  # type: ignore[no-any-return]


def built_v2() -> Any:
    return _BUILT["v2"]


@pytest.fixture
def manifest(
    tmp_path: Path, settings: Settings, database: Database, records: RecordStore
) -> Iterator[Path]:
    _BUILT["legacy"] = plant(legacy_flask.create_app(settings, database=database))
    _BUILT["v2"] = conduit_v2.create_app(settings, database=database)
    yield shadowed(
        tmp_path,
        records,
        module=MODULE,
        paths=["/api/articles", "/api/articles/**"],
        legacy=f"{__name__}:planted_legacy()",
        v2=f"{__name__}:built_v2()",
    )
    _BUILT.clear()


def _shadow_traffic(manifest: Path, records: RecordStore) -> None:
    app = create_app(load_config(manifest, environ={}), store=records)
    with running_server(app) as url, httpx.Client(base_url=f"{url}/legacy/api", timeout=30) as http:
        api = Api(http=http, prefix="")
        author = api.register("planter")
        for n in range(3):
            api.create_article(author, title=f"Planted {n}")
        for offset in range(REQUESTS):
            assert (
                http.get("/articles", params={"limit": 2, "offset": offset % 3}).status_code == 200
            )

        def recorded() -> int | None:
            with records.session() as session:
                rows = session.scalars(
                    select(ShadowComparison).where(ShadowComparison.module == MODULE)
                ).all()
            return len(rows) if len(rows) >= REQUESTS else None

        wait_until(recorded, timeout=30, message=f"{REQUESTS} comparisons")


def test_learning_finds_the_planted_fields_by_kind_and_nothing_stable(
    manifest: Path, records: RecordStore
) -> None:
    _shadow_traffic(manifest, records)
    runner = CliRunner()

    learn = runner.invoke(main, ["parity", "learn", MODULE, "--manifest", str(manifest)])
    report = runner.invoke(main, ["parity", "--manifest", str(manifest)])

    assert learn.exit_code == 0, learn.output
    with records.session() as session:
        (run,) = session.scalars(select(NoiseRun).where(NoiseRun.module == MODULE)).all()
    assert run.pairs == 3  # the distinct requests recorded (three offsets)
    assert run.paths == {
        "nonce": {"count": 3, "kind": "uuid", "tolerance": None},
        "servedAt": {"count": 3, "kind": "timestamp", "tolerance": None},
    }
    assert report.exit_code == 0, report.output
    assert '"nonce" = "uuid"' in report.output
    assert '"servedAt" = "timestamp"' in report.output
    assert "articlesCount" not in report.output.split("learned, to paste")[1]


def test_learning_without_recorded_requests_says_what_to_do(manifest: Path) -> None:
    learn = CliRunner().invoke(main, ["parity", "learn", MODULE, "--manifest", str(manifest)])

    assert learn.exit_code == 1
    assert "put it in shadow" in learn.output
