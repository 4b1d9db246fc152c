"""The gateway's options: what to serve and how, from the manifest, ``GATEWAY_*`` or flags.

Each option can be given in three places; the later wins: the manifest's ``[gateway]`` table,
a ``GATEWAY_<OPTION>`` environment variable (``GATEWAY_SHADOW__QUEUE_SIZE`` for a nested
one), a ``gateway serve --<option>`` flag. Every value remembers where it came from, so a
bad one is reported with its place: ``migration.toml:4``, ``GATEWAY_LEGACY`` or ``--legacy``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from gateway.errors import ConfigError

ENV_PREFIX = "GATEWAY_"
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~\-]+)+$")


class ShadowOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Samples waiting for replay; past this they are dropped (and counted), never queued.
    queue_size: int = Field(default=100, ge=1)
    # A v2 replay slower than this is recorded as an error and abandoned.
    timeout_seconds: float = Field(default=5.0, gt=0)
    # Legacy answers larger than this are not sampled (they are not held in memory).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)


class ServerOptions(BaseModel):
    """How ``gateway serve`` runs uvicorn: every wait has a deadline, every input a size."""

    model_config = ConfigDict(extra="forbid")

    # From a connection's first byte (or its opening) to the end of a request's headers.
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    # The longest silence while a request body is arriving.
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    # How long an idle keep-alive connection is kept.
    keep_alive_seconds: float = Field(default=5.0, gt=0)
    # A request's line and headers, all together, and how many headers.
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    max_headers: int = Field(default=100, ge=10)
    # Open connections (and requests in progress) past which new ones get a 503.
    max_connections: int = Field(default=1000, ge=1)
    # Proxies whose X-Forwarded-For / -Proto are believed; by default none are.
    trusted_proxies: list[str] = Field(default_factory=list)
    # The interpreter's thread switch interval (sys.setswitchinterval) in each worker: how
    # long the event loop may wait for a legacy thread to let go of the GIL.
    switch_interval_ms: float = Field(default=1.0, gt=0, le=100)


class GatewayOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Import strings: the legacy WSGI app (or its factory) and the v2 ASGI app or APIRouter.
    legacy: str | None = None
    v2: str | None = None
    legacy_prefix: str = "/legacy"
    v2_prefix: str = "/v2"
    # How a canary user is recognised: address, bearer-sub, header:<name>, cookie:<name>,
    # or an import string to a function of the request.
    sticky: str = "address"
    # With sticky = "bearer-sub": the key that verifies the token; without one the subject
    # is read unverified, which is safe only because it merely picks a side (see README).
    sticky_jwt_key: SecretStr | None = None
    sticky_jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"], min_length=1)
    # Where the gateway keeps its records; None means the legacy app's database.
    database: str | None = None
    # The body of errors the gateway answers itself: "problem" (RFC 9457) or an import
    # string to a function (status, detail) -> Response.
    errors: str = "problem"
    # Requests the legacy app runs at once, one thread each: at most this many, and fewer
    # while its views compute (gateway.legacy.cpu_share): views that wait on I/O want many,
    # views that compute gain nothing from more than one and slow v2 down.
    legacy_threads: int = Field(default=10, ge=1, le=256)
    # The share of a core the legacy app may keep busy before fewer of its requests run at
    # once; 0 turns the adaptation off (always legacy_threads).
    legacy_cpu_share: float = Field(default=0.75, ge=0, le=64)
    # Requests that may wait for a legacy thread, and for how long; past either, a 503.
    legacy_queue: int = Field(default=100, ge=0)
    legacy_queue_seconds: float = Field(default=10.0, gt=0)
    # Largest legacy request body of unknown length, unless the Flask app sets its own
    # MAX_CONTENT_LENGTH.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Folders put first on sys.path before importing the apps (relative to the manifest).
    python_path: list[str] = Field(default_factory=list)
    shadow: ShadowOptions = Field(default_factory=ShadowOptions)
    server: ServerOptions = Field(default_factory=ServerOptions)

    @field_validator("legacy_prefix", "v2_prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError("must look like '/legacy': path segments, no trailing '/'")
        return prefix

    @model_validator(mode="after")
    def _prefixes(self) -> Self:
        a, b = self.legacy_prefix, self.v2_prefix
        if a == b or a.startswith(b + "/") or b.startswith(a + "/"):
            raise ValueError(f"legacy_prefix {a!r} and v2_prefix {b!r} must not overlap")
        return self


class _FromEnvironment(BaseSettings, GatewayOptions):
    """Only a reader of ``GATEWAY_*``: values are validated with the others, in one place."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__")


def environment_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The options set by ``GATEWAY_*`` variables (``environ`` defaults to the process's)."""
    source = EnvSettingsSource(_FromEnvironment)
    if environ is not None:
        source.env_vars = {k.lower(): v for k, v in environ.items()}
    return dict(source())


def env_name(option: str) -> str:
    return ENV_PREFIX + option.upper()


def flag_name(option: str) -> str:
    return "--" + option.replace("_", "-")


def resolve(
    *,
    table: Mapping[str, Any],
    table_lines: Mapping[str, str],
    environment: Mapping[str, Any],
    flags: Mapping[str, Any],
) -> tuple[GatewayOptions, dict[str, str]]:
    """Merge the three sources (later wins) and validate; returns the options and, per
    option, where its value came from."""
    merged: dict[str, Any] = {}
    where: dict[str, str] = {}
    for values, place in (
        (table, lambda key: table_lines.get(key, "manifest")),
        (environment, env_name),
        (flags, flag_name),
    ):
        for key, value in values.items():
            if key in ("shadow", "server") and isinstance(value, Mapping):
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
            where[key] = place(key)
    try:
        options = GatewayOptions.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError([_problem(error, where) for error in exc.errors()]) from exc
    return options, where


def _problem(error: Any, where: Mapping[str, str]) -> str:
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:
        return f"gateway options: {message}"
    option = ".".join(loc)
    place = where.get(loc[0], "gateway options")
    if error["type"] == "extra_forbidden":
        return f"{place}: unknown option {option!r}"
    return f"{place}: {option}: {message}"
