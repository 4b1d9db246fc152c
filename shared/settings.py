"""Settings of the Conduit example (both of its apps), read from ``CONDUIT_*`` variables.

The gateway has its own options (``GATEWAY_*``); the example is configured into it.
"""

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

ENV_PREFIX = "CONDUIT_"
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
    # Every wait on the database has a deadline; past one a request answers 503.
    connect_timeout_seconds: int = Field(default=5, ge=1)
    # Handing out a pooled connection in all: waiting for a free one, its pre-ping, or
    # connecting anew when the ping fails.
    pool_timeout_seconds: float = Field(default=5.0, gt=0)
    statement_timeout_seconds: float = Field(default=15.0, gt=0)
    # A request's waits on the database all together, on the client: the last resort for a
    # server too frozen to apply statement_timeout, above it so a live server's comes first.
    client_timeout_seconds: float = Field(default=20.0, gt=0)
    # A server that stops acknowledging (a network partition) breaks the connection after this.
    tcp_user_timeout_seconds: float = Field(default=10.0, gt=0)


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: Environment = Environment.development
    var_dir: Path = Path("var")
    # Largest request body either app accepts, in bytes.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    jwt: JWTSettings = Field(default_factory=JWTSettings)
    # CONDUIT_DATABASE_URL, the flat spelling hosting platforms use, is an alias of
    # CONDUIT_DATABASE__URL; the nested one (or an explicit database.url) wins.
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
                raise ValueError(f"{ENV_PREFIX}JWT__SECRET must be set in production")
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
