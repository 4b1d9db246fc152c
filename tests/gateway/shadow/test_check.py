"""``gateway parity check`` sends requests generated from v2's OpenAPI to both sides.

On Conduit's articles (legacy and v2 written to one contract) both sides answer every
generated request alike, the writes included, and the database is left as it was: each
side's writes ran in a transaction that was rolled back. A v2 planted with a divergence is
caught with the smallest request that shows it, and the command exits 1: the tag list
upper-cased (a read), the comments it creates upper-cased (a write, reaching a real article
whose slug the reads answered with).
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
from shared.models import Base
from shared.settings import Settings
from tests.conduit import Api
from tests.planted import UpperCased

EXAMPLES = "15"
# The same requests every run: a test must not pass or fail with the draw.
SEED = "1"
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
write_ignore = ["users.password_hash"]

[module.noise]
# Each side stamps its own rows; a comment's id is a sequence's (PostgreSQL does not roll
# sequences back, so v2's turn took other numbers).
"article.createdAt" = "timestamp"
"article.updatedAt" = "timestamp"
"comment.id" = "number"
"comment.createdAt" = "timestamp"
"comment.updatedAt" = "timestamp"

[[module]]
name = "tags"
paths = ["/api/tags"]
""",
        encoding="utf-8",
    )
    _BUILT["token"] = author.token
    yield path
    _BUILT.clear()


def _check(manifest: Path, module: str) -> Any:
    """The command, signed in as the articles' author (the writes then reach real rows)."""
    command = ["parity", "check", module, "--examples", EXAMPLES, "--seed", SEED]
    command += ["--manifest", str(manifest)]
    header = f"Authorization: Token {_BUILT['token']}"
    return CliRunner().invoke(main, [*command, "--header", header])


def _everything(database: Database) -> dict[str, set[tuple[Any, ...]]]:
    with database.engine.connect() as connection:
        return {
            table.name: {tuple(row) for row in connection.execute(table.select())}
            for table in Base.metadata.sorted_tables
        }


def test_a_faithful_module_answers_every_generated_request_alike_and_changes_nothing(
    manifest: Path, database: Database
) -> None:
    before = _everything(database)

    checked = _check(manifest, "articles")

    assert checked.exit_code == 0, checked.output
    for operation in (
        "GET /api/articles",
        "GET /api/articles/{slug}",
        "POST /api/articles",
        "PUT /api/articles/{slug}",
        "DELETE /api/articles/{slug}",
        "POST /api/articles/{slug}/comments",
    ):
        assert f"{operation}: 15 requests, both sides alike" in checked.output
    assert _everything(database) == before  # every write of both sides was rolled back


def test_a_write_answered_differently_is_found_on_a_real_article(manifest: Path) -> None:
    # v2 answers the comments it creates upper-cased, and nothing else differently.
    _BUILT["v2"] = UpperCased(_BUILT["v2"], "/comments", status=201)

    checked = _check(manifest, "articles")

    assert checked.exit_code == 1, checked.output
    assert "POST /api/articles/{slug}/comments: DIFFERS" in checked.output
    # The smallest request names an article of the database, drawn from the reads' answers.
    assert "smallest: POST /api/articles/checked-" in checked.output
    assert "GET /api/articles/{slug}: 15 requests, both sides alike" in checked.output


def test_a_planted_divergence_is_found_with_its_smallest_request(manifest: Path) -> None:
    _BUILT["v2"] = UpperCased(_BUILT["v2"], "/api/tags")

    checked = _check(manifest, "tags")

    assert checked.exit_code == 1, checked.output
    assert "GET /api/tags: DIFFERS" in checked.output
    assert "smallest: GET /api/tags" in checked.output
