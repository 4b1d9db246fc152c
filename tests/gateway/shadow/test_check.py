"""``gateway parity check`` sends requests generated from v2's OpenAPI to both sides.

On Conduit's article reads (legacy and v2 written to one contract) both sides answer every
generated request alike; a v2 planted with a divergence (the tag list upper-cased) is caught,
with the smallest request that shows it, and the command exits 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import legacy_flask
import v2 as conduit_v2
from gateway.cli import main
from shared.db import Database
from shared.settings import Settings
from tests.conduit import Api
from tests.planted import UpperCased

EXAMPLES = "15"
# The apps the manifest's import strings return: the ones this test built.
_BUILT: dict[str, Any] = {}


def built_legacy() -> Any:
    return _BUILT["legacy"]


def built_v2() -> Any:
    return _BUILT["v2"]


@pytest.fixture
def manifest(
    tmp_path: Path, settings: Settings, database: Database, client: httpx.Client
) -> Iterator[Path]:
    api = Api(http=client, prefix="/legacy/api")
    author = api.register("checker")
    for n in range(3):
        api.create_article(author, title=f"Checked {n}", tagList=["calm", f"t{n}"])
    _BUILT.update(
        legacy=legacy_flask.create_app(settings, database=database),
        v2=conduit_v2.create_app(settings, database=database),
    )
    path = tmp_path / "migration.toml"
    path.write_text(
        f"""[gateway]
legacy = "{__name__}:built_legacy()"
v2 = "{__name__}:built_v2()"
errors = "v2.errors:gateway_error"
database = "sqlite:///{tmp_path / "records.db"}"

[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/feed", "/api/articles/*", "/api/articles/*/comments"]

[[module]]
name = "tags"
paths = ["/api/tags"]
""",
        encoding="utf-8",
    )
    yield path
    _BUILT.clear()


def _check(manifest: Path, module: str) -> Any:
    command = ["parity", "check", module, "--examples", EXAMPLES, "--manifest", str(manifest)]
    return CliRunner().invoke(main, command)


def test_a_faithful_module_answers_every_generated_request_alike(manifest: Path) -> None:
    checked = _check(manifest, "articles")

    assert checked.exit_code == 0, checked.output
    assert "GET /api/articles: 15 requests, both sides alike" in checked.output
    assert "GET /api/articles/{slug}: 15 requests, both sides alike" in checked.output
    assert "POST /api/articles: a write: not sent" in checked.output


def test_a_planted_divergence_is_found_with_its_smallest_request(manifest: Path) -> None:
    _BUILT["v2"] = UpperCased(_BUILT["v2"], "/api/tags")

    checked = _check(manifest, "tags")

    assert checked.exit_code == 1, checked.output
    assert "GET /api/tags: DIFFERS" in checked.output
    assert "smallest: GET /api/tags" in checked.output
