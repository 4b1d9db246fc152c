"""Settings for every part of the gateway, read from ``GATEWAY_*`` environment variables."""

from __future__ import annotations

import os
import secrets
import tempfile
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_BYTES = 32
_PLACEHOLDERS = {"changeme", "change-me", "secret", "dev", "development", "please-change"}


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class DatabaseSettings(BaseModel):
    url: str = "sqlite:///./var/conduit.db"
    echo: bool = False
    # How long a SQLite writer waits for the lock before giving up.
    busy_timeout_ms: int = Field(default=10_000, ge=0)
    pool_size: int = Field(default=10, ge=1)


class JWTSettings(BaseModel):
    # Current signing key and its id; tokens carry the id in their `kid` header.
    secret: SecretStr | None = None
    kid: str = "k1"
    # Keys that still verify (kid -> secret) until an operator removes them.
    previous_keys: dict[str, SecretStr] = Field(default_factory=dict)
    issuer: str = "conduit-gateway"
    audience: str = "conduit"
    ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    leeway_seconds: int = Field(default=10, ge=0)


class LegacySettings(BaseModel):
    # a2wsgi worker threads: legacy throughput against v2 latency (see DESIGN.md figures).
    threads: int = Field(default=10, ge=1, le=256)
    # Largest request body handed to Flask, in bytes.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)


class ShadowSettings(BaseModel):
    # Samples waiting for replay; past this they are dropped (and counted), never queued.
    queue_size: int = Field(default=100, ge=1)
    # A v2 replay slower than this is recorded as an error and abandoned.
    timeout_seconds: float = Field(default=5.0, gt=0)
    # Legacy answers larger than this are not sampled (they are not held in memory).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: Environment = Environment.development
    var_dir: Path = Path("var")
    # The migration manifest (GATEWAY_MANIFEST); None means the project's migration.toml.
    manifest: Path | None = None
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    jwt: JWTSettings = Field(default_factory=JWTSettings)
    legacy: LegacySettings = Field(default_factory=LegacySettings)
    shadow: ShadowSettings = Field(default_factory=ShadowSettings)
    # GATEWAY_DATABASE_URL, the flat spelling hosting platforms and the issue use, is an alias
    # of GATEWAY_DATABASE__URL; the nested one (or an explicit database.url) wins.
    database_url: str | None = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _apply_database_url_alias(self) -> Self:
        if self.database_url is not None and "url" not in self.database.model_fields_set:
            self.database = self.database.model_copy(update={"url": self.database_url})
        return self

    @model_validator(mode="after")
    def _require_real_secret(self) -> Self:
        keys = {self.jwt.kid: self.jwt.secret, **self.jwt.previous_keys}
        if self.jwt.secret is None:
            if self.environment is Environment.production:
                raise ValueError("GATEWAY_JWT__SECRET must be set in production")
            self.jwt.secret = SecretStr(_local_dev_secret(self.var_dir))
            keys[self.jwt.kid] = self.jwt.secret
        if self.environment is Environment.production:
            for kid, key in keys.items():
                value = key.get_secret_value() if key else ""
                if value.lower() in _PLACEHOLDERS or len(value.encode()) < MIN_SECRET_BYTES:
                    raise ValueError(
                        f"JWT key {kid!r} is a placeholder or shorter than "
                        f"{MIN_SECRET_BYTES} bytes; generate one with "
                        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                    )
        return self


def _local_dev_secret(var_dir: Path) -> str:
    """A per-checkout secret, kept on disk so tokens survive restarts and span workers."""
    path = var_dir / "dev-jwt-secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        var_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        # Write a private (0600) temp file, then link it into place: the secret appears whole
        # or not at all, so a worker starting alongside never reads a half-written file.
        fd, tmp = tempfile.mkstemp(dir=var_dir, prefix=".dev-jwt-secret.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(value)
            os.link(tmp, path)
        except FileExistsError:  # another worker won the race; use its value
            return path.read_text().strip()
        finally:
            os.unlink(tmp)
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
