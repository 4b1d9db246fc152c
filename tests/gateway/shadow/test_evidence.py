"""Diffy's filter on the records: a path differs for real only well beyond its noise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.records import migrate
from gateway.records.store import RecordStore
from gateway.records.tables import NoiseRun, ShadowComparison
from gateway.shadow.evidence import path_evidence, rule_path

MODULE = "articles"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate.upgrade(url)
    records = RecordStore(url)
    yield records
    records.engine.dispose()


def _changed(*paths: str) -> dict[str, object]:
    return {"values_changed": {p: {"old_value": 1, "new_value": 2} for p in paths}}


def _record(store: RecordStore, comparisons: list[dict[str, object] | None], pairs: int) -> None:
    with store.session() as session, session.begin():
        for diff in comparisons:
            session.add(
                ShadowComparison(
                    module=MODULE,
                    request={"method": "GET", "path": "/api/articles", "query": "", "headers": {}},
                    legacy_status=200,
                    v2_status=200,
                    outcome="matched" if diff is None else "mismatched",
                    diff=diff,
                )
            )
        if pairs:
            moving = {"count": pairs, "kind": "timestamp", "tolerance": None}
            session.add(NoiseRun(module=MODULE, pairs=pairs, paths={"article.updatedAt": moving}))


def test_deepdiff_paths_read_as_rules() -> None:
    assert rule_path("root['articles'][3]['slug']") == "articles[*].slug"
    assert rule_path("root['article']") == "article"
    assert rule_path("root") == "(body)"


def test_real_differences_noise_and_the_unjudged(store: RecordStore) -> None:
    moving = "root['article']['updatedAt']"
    forgotten = "root['article']['favorited']"
    rare = "root['article']['title']"
    diffs: list[dict[str, object] | None] = []
    diffs += [_changed(moving, forgotten)] * 10  # 10 % of comparisons: v2 forgets favorited
    diffs += [_changed(moving)] * 50
    diffs += [_changed(moving, rare)] * 2  # 2 %: under the absolute margin
    diffs += [None] * 38
    _record(store, diffs, pairs=20)

    with store.session() as session:
        found, noise = path_evidence(session, MODULE)
        newest, _noise = path_evidence(session, MODULE, newest=38)  # the 38 that matched

    verdicts = {evidence.path: evidence.real for evidence in found}
    assert verdicts == {
        "article.favorited": True,  # 10 % against no noise
        "article.title": False,  # 2 %: within the 3-point margin
        "article.updatedAt": False,  # 62 % against legacy's own 100 %
    }
    assert noise["article.updatedAt"].kind == "timestamp"
    assert newest == []


def test_too_few_legacy_pairs_judge_nothing(store: RecordStore) -> None:
    _record(store, [_changed("root['article']['favorited']")] * 5, pairs=3)

    with store.session() as session:
        (evidence,), _noise = path_evidence(session, MODULE)

    assert evidence.real is None
