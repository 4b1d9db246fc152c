from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import DatabaseSettings, Environment, Settings
from tests.conftest import TEST_JWT_SECRET


@pytest.fixture(autouse=True)
def _no_database_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONDUIT_DATABASE__URL", "CONDUIT_DATABASE_URL", "CONDUIT_DATABASE__ECHO"):
        monkeypatch.delenv(name, raising=False)


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        environment=Environment.test,
        var_dir=tmp_path,
        jwt={"secret": TEST_JWT_SECRET},
        **overrides,  # type: ignore[arg-type]
    )


def test_database_url_defaults_to_the_local_sqlite_file(tmp_path: Path) -> None:
    assert (
        _settings(tmp_path).database.url == DatabaseSettings().url == "sqlite:///./var/conduit.db"
    )


def test_flat_database_url_is_an_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUIT_DATABASE_URL", "postgresql://app@db/conduit")

    assert _settings(tmp_path).database.url == "postgresql://app@db/conduit"


def test_nested_database_url_wins_over_the_alias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUIT_DATABASE_URL", "postgresql://app@alias/conduit")
    monkeypatch.setenv("CONDUIT_DATABASE__URL", "postgresql://app@nested/conduit")

    assert _settings(tmp_path).database.url == "postgresql://app@nested/conduit"


def test_explicit_database_url_wins_over_the_alias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUIT_DATABASE_URL", "postgresql://app@alias/conduit")

    settings = _settings(tmp_path, database={"url": "sqlite:///explicit.db"})

    assert settings.database.url == "sqlite:///explicit.db"


def test_alias_keeps_other_nested_database_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUIT_DATABASE_URL", "postgresql://app@alias/conduit")
    monkeypatch.setenv("CONDUIT_DATABASE__ECHO", "true")

    database = _settings(tmp_path).database

    assert (database.url, database.echo) == ("postgresql://app@alias/conduit", True)
