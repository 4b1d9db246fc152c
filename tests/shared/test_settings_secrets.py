"""JWT secrets in Settings: required and strong in production, generated for development."""

from __future__ import annotations

import ast
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import MIN_SECRET_BYTES, Environment, JWTSettings, Settings
from shared.tokens import TokenCore

STRONG = "s" * 40
OTHER_STRONG = "p" * 40


@pytest.fixture(autouse=True)
def _no_gateway_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CONDUIT_ENVIRONMENT",
        "CONDUIT_VAR_DIR",
        "CONDUIT_JWT__SECRET",
        "CONDUIT_JWT__KID",
        "CONDUIT_JWT__PREVIOUS_KEYS",
    ):
        monkeypatch.delenv(name, raising=False)


def _production(tmp_path: Path, **jwt: object) -> Settings:
    return Settings(environment=Environment.production, var_dir=tmp_path, jwt=jwt)


def test_production_requires_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CONDUIT_JWT__SECRET must be set in production"):
        _production(tmp_path)

    assert list(tmp_path.iterdir()) == []  # no development secret was made up


def test_production_environment_read_from_env_requires_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUIT_ENVIRONMENT", "production")

    with pytest.raises(ValidationError, match="must be set in production"):
        Settings(var_dir=tmp_path)


@pytest.mark.parametrize(
    "secret",
    ["changeme", "secret", "x" * (MIN_SECRET_BYTES - 1), "é" * (MIN_SECRET_BYTES // 2 - 1)],
)
def test_production_rejects_a_short_secret(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ValidationError, match="shorter than 32 bytes"):
        _production(tmp_path, secret=secret)


@pytest.mark.parametrize("secret", [STRONG, "x" * MIN_SECRET_BYTES, "é" * (MIN_SECRET_BYTES // 2)])
def test_production_accepts_a_long_secret(tmp_path: Path, secret: str) -> None:
    settings = _production(tmp_path, secret=secret)

    assert settings.jwt.secret is not None
    assert settings.jwt.secret.get_secret_value() == secret
    assert secret not in repr(settings)


def test_production_rejects_a_short_previous_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="'k0'"):
        _production(tmp_path, secret=STRONG, previous_keys={"k0": "short"})


def test_production_accepts_long_previous_keys(tmp_path: Path) -> None:
    settings = _production(tmp_path, secret=STRONG, previous_keys={"k0": OTHER_STRONG})

    assert settings.jwt.previous_keys["k0"].get_secret_value() == OTHER_STRONG


def test_development_generates_and_persists_a_secret(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"  # created on demand

    first = Settings(environment=Environment.development, var_dir=var_dir)
    second = Settings(environment=Environment.development, var_dir=var_dir)

    assert first.jwt.secret is not None
    assert second.jwt.secret is not None
    secret = first.jwt.secret.get_secret_value()
    assert len(secret.encode()) >= MIN_SECRET_BYTES
    assert second.jwt.secret.get_secret_value() == secret
    path = var_dir / "dev-jwt-secret"
    assert path.read_text().strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A token issued under the first settings verifies under the second (a restart).
    assert TokenCore(second.jwt).verify(TokenCore(first.jwt).issue(3)).user_id == 3


def test_each_var_dir_gets_its_own_development_secret(tmp_path: Path) -> None:
    one = Settings(var_dir=tmp_path / "one")
    two = Settings(var_dir=tmp_path / "two")

    assert one.jwt.secret is not None
    assert two.jwt.secret is not None
    assert one.jwt.secret.get_secret_value() != two.jwt.secret.get_secret_value()


def test_development_keeps_an_explicit_secret(tmp_path: Path) -> None:
    settings = Settings(environment=Environment.development, var_dir=tmp_path, jwt={"secret": "x"})

    assert settings.jwt.secret is not None
    assert settings.jwt.secret.get_secret_value() == "x"  # short is fine outside production
    assert not (tmp_path / "dev-jwt-secret").exists()


def test_secret_and_previous_keys_are_read_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUIT_JWT__SECRET", STRONG)
    monkeypatch.setenv("CONDUIT_JWT__KID", "k1")
    monkeypatch.setenv("CONDUIT_JWT__PREVIOUS_KEYS", json.dumps({"k0": OTHER_STRONG}))

    settings = Settings(environment=Environment.production, var_dir=tmp_path)

    assert settings.jwt.secret is not None
    assert settings.jwt.secret.get_secret_value() == STRONG
    assert settings.jwt.kid == "k1"
    assert {kid: key.get_secret_value() for kid, key in settings.jwt.previous_keys.items()} == {
        "k0": OTHER_STRONG
    }
    issued_before_rotation = TokenCore(JWTSettings(secret=OTHER_STRONG, kid="k0")).issue(9)
    assert TokenCore(settings.jwt).verify(issued_before_rotation).kid == "k0"


def test_short_previous_key_from_env_is_rejected_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUIT_JWT__SECRET", STRONG)
    monkeypatch.setenv("CONDUIT_JWT__PREVIOUS_KEYS", '{"k0": "tooshort"}')

    with pytest.raises(ValidationError, match="'k0'"):
        Settings(environment=Environment.production, var_dir=tmp_path)


_WORKER = """
import sys
from pathlib import Path
from shared.settings import Environment, Settings

print("ready", flush=True)
for line in sys.stdin:
    settings = Settings(environment=Environment.development, var_dir=Path(line.strip()))
    print(repr(settings.jwt.secret.get_secret_value()), flush=True)
"""


def test_workers_starting_together_share_one_complete_secret(tmp_path: Path) -> None:
    # Several server workers start at once on a fresh checkout: each must end up with the
    # same, complete secret, never a half-written (empty) file another worker is writing.
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        for _ in range(6)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline() == "ready\n"
        for attempt in range(25):
            var_dir = tmp_path / f"var{attempt}"
            for worker in workers:  # release them as close together as possible
                assert worker.stdin is not None
                worker.stdin.write(f"{var_dir}\n")
                worker.stdin.flush()
            seen = {ast.literal_eval(worker.stdout.readline()) for worker in workers}  # type: ignore[union-attr]

            assert seen == {(var_dir / "dev-jwt-secret").read_text().strip()}, attempt
            assert len(seen.pop()) >= MIN_SECRET_BYTES
            assert stat.S_IMODE((var_dir / "dev-jwt-secret").stat().st_mode) == 0o600
            assert [p.name for p in var_dir.iterdir()] == ["dev-jwt-secret"]  # no leftovers
    finally:
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.close()
        for worker in workers:
            worker.wait(timeout=30)
            assert worker.stdout is not None
            worker.stdout.close()
