"""The Conduit example's own command: its schema and its demo data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, inspect, pool, select

from shared import cli, demo, migrate
from shared.models import Article, Base, Comment, Favorite, Follow, User
from shared.settings import get_settings


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the CLI's settings (read from the environment) at a new SQLite file."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("CONDUIT_DATABASE__URL", f"sqlite:///{path}")
    monkeypatch.setenv("CONDUIT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONDUIT_ENVIRONMENT", "development")
    monkeypatch.delenv("CONDUIT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def _counts(path: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{path}", poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return {
                model.__tablename__: conn.scalar(select(func.count()).select_from(model)) or 0
                for model in (User, Follow, Article, Favorite, Comment)
            }
    finally:
        engine.dispose()


def test_db_upgrade_creates_the_tables(db_file: Path) -> None:
    result = _run("db", "upgrade")

    assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{db_file}", poolclass=pool.NullPool)
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    engine.dispose()
    head = migrate.head_revision(get_settings())
    assert f"at revision {head}" in result.output


def test_db_upgrade_twice_is_harmless(db_file: Path) -> None:
    assert _run("db", "upgrade").exit_code == 0

    result = _run("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert _counts(db_file)["users"] == 0


def test_demo_seeds_once(db_file: Path) -> None:
    first = _run("demo")
    counts = _counts(db_file)
    second = _run("demo")

    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    assert "Demo data added" in first.output
    assert "already has users" in second.output
    assert counts["users"] == len(demo.USERS)
    assert counts["articles"] == len(demo.ARTICLES)
    assert counts["comments"] > 0
    assert _counts(db_file) == counts


def test_demo_is_refused_in_production(db_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUIT_ENVIRONMENT", "production")
    monkeypatch.setenv("CONDUIT_JWT__SECRET", "a-production-secret-of-more-than-32-bytes")

    result = _run("demo")

    assert result.exit_code == 1
    assert "refused in production" in result.output
    assert not db_file.exists()  # refused before anything was touched


def test_invalid_settings_give_a_clear_error(
    db_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUIT_ENVIRONMENT", "production")
    monkeypatch.delenv("CONDUIT_JWT__SECRET", raising=False)

    result = _run("db", "upgrade")

    assert result.exit_code == 1
    assert "CONDUIT_JWT__SECRET must be set in production" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not db_file.exists()
