"""The gateway's options, each with its default, its bounds and what it means.

Where they come from (the manifest's ``[gateway]`` table, ``GATEWAY_*`` variables, flags)
is :mod:`gateway.config.sources`. A list may be written as people write lists in variables:
``GATEWAY_PYTHON_PATH=/a:/b`` (like ``PYTHONPATH``),
``GATEWAY_SERVER__TRUSTED_PROXIES=10.0.0.1,10.0.0.2``; a JSON list is accepted too.
"""

from __future__ import annotations

import json
import os
import re
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from gateway.config.prefixes import Prefixes

_PREFIX = re.compile(r"^(/[A-Za-z0-9._~\-]+)+$")
# The legacy app mounted at the root: every path that is not v2's or the gateway's is its.
ROOT = "/"
# Where the gateway's own endpoints go when the legacy app owns the root.
OWN_PREFIX_AT_ROOT = "/_gateway"
# Legacy requests that may wait for a turn, and for how long. The wait is generous, so that a
# burst is served (a client waits 30 s before it gives up, as most do); a real overload
# still gets a fast 503, since a wait the pace of the app says would pass it is refused.
LEGACY_QUEUE = 100
LEGACY_QUEUE_SECONDS = 30.0
# An admin token shorter than this is refused: it guards the figures of every module.
ADMIN_TOKEN_MIN_LENGTH = 16
# A legacy process still in one request after this long is killed and replaced (gunicorn's).
LEGACY_TIMEOUT_SECONDS = 60.0


def split_list(value: Any, separator: str) -> Any:
    """A list option's value from text: a JSON list, or items between ``separator``s."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not a JSON list: {exc}") from None
    return [item.strip() for item in text.split(separator) if item.strip()]


# Read from text as written, not as JSON: the validators below split it.
TextList = Annotated[list[str], NoDecode]


class ShadowOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue_size: int = Field(
        default=100, ge=1, description="samples waiting for replay; past it they are dropped"
    )
    timeout_seconds: float = Field(
        default=5.0, gt=0, description="a v2 replay slower than this is recorded as an error"
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, description="legacy answers larger than this are not sampled"
    )


class ServerOptions(BaseModel):
    """How ``gateway serve`` runs uvicorn: every wait has a deadline, every input a size."""

    model_config = ConfigDict(extra="forbid")

    header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="from a request's first byte to the end of its headers"
    )
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="the longest silence while a request body arrives"
    )
    keep_alive_seconds: float = Field(
        default=5.0, gt=0, description="how long an idle keep-alive connection is kept"
    )
    max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, description="a request's line and headers, all together"
    )
    max_headers: int = Field(default=100, ge=10, description="headers per request")
    max_connections: int = Field(
        default=1000, ge=1, description="open connections past which new ones get a 503"
    )
    trusted_proxies: TextList = Field(
        default_factory=list,
        description="addresses whose X-Forwarded-For / -Proto are believed (comma-separated)",
    )
    # The Host header reaches redirects a legacy app builds (Flask's Location, url_for with
    # _external): in production, name the hosts clients use.
    allowed_hosts: TextList = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        description="Host values answered, as Starlette's TrustedHostMiddleware reads them "
        "('*.example.com' allowed; comma-separated); others get a 400",
    )
    # The event loop waits up to this long for a legacy thread to let go of the GIL.
    switch_interval_ms: float = Field(
        default=1.0, gt=0, le=100, description="the interpreter's thread switch interval"
    )

    @field_validator("trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return split_list(value, ",")


class GatewayOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legacy: str | None = Field(
        default=None, description="the legacy WSGI app: 'module:app' or 'module:factory()'"
    )
    v2: str | None = Field(
        default=None, description="the v2 ASGI app (or factory), or an APIRouter: 'module:app'"
    )
    legacy_prefix: str = Field(
        default="/legacy",
        description="where the legacy app is served; '/' keeps every legacy URL as it is",
    )
    v2_prefix: str = Field(default="/v2", description="where v2 is served")
    gateway_prefix: str | None = Field(
        default=None,
        description="where the gateway's own endpoints (health, docs, OpenAPI) are served; "
        f"default {OWN_PREFIX_AT_ROOT} with legacy_prefix '/', else the root",
    )
    sticky: str = Field(
        default="address",
        description="who a canary user is: address, bearer-sub, header:<name>, cookie:<name> "
        "or 'module:function'",
    )
    # Without a key the subject is read unverified: it only picks a side (see README).
    sticky_jwt_key: SecretStr | None = Field(
        default=None, description="with sticky = bearer-sub: the key that verifies the token"
    )
    sticky_jwt_algorithms: TextList = Field(
        default_factory=lambda: ["HS256"],
        min_length=1,
        description="with sticky_jwt_key: the algorithms accepted (comma-separated)",
    )
    database: str | None = Field(
        default=None, description="where the gateway keeps its records (default: beside the app's)"
    )
    # Without one, /metrics is off (404): nothing about the migration is told by default.
    admin_token: SecretStr | None = Field(
        default=None,
        min_length=ADMIN_TOKEN_MIN_LENGTH,
        description="the operator's token: it opens /metrics, and a request carrying it is "
        "never shadowed, sent to a canary or counted (Authorization: Bearer, or "
        "X-Gateway-Admin-Token)",
    )
    errors: str = Field(
        default="problem",
        description="the body of the gateway's own errors: problem (RFC 9457) or "
        "'module:function(status, detail) -> Response'",
    )
    # Views that wait on I/O want many threads; views that compute gain nothing from more
    # than one and slow v2 down (gateway.mounts.legacy.cpu_share).
    legacy_threads: int = Field(
        default=10, ge=1, le=256, description="at most this many legacy requests run at once"
    )
    legacy_cpu_share: float = Field(
        default=0.75,
        ge=0,
        le=64,
        description="the share of a core the legacy app may keep busy before fewer of its "
        "requests run at once; 0 always runs legacy_threads",
    )
    legacy_queue: int = Field(
        default=LEGACY_QUEUE,
        ge=0,
        description="legacy requests that may wait for a turn; past it, a 503",
    )
    legacy_queue_seconds: float = Field(
        default=LEGACY_QUEUE_SECONDS,
        gt=0,
        description="how long a legacy request may wait for a turn; one that would wait "
        "longer, at the rate turns end, gets its 503 at once",
    )
    # Processes of its own keep the legacy app's Python work off the interpreter lock that
    # the event loop serving v2 needs (gateway.mounts.legacy.pool).
    legacy_processes: int = Field(
        default=0,
        ge=0,
        le=256,
        description="serve the legacy app from this many worker processes of its own "
        "(gunicorn's sync workers); 0 runs it on threads in the gateway's process",
    )
    legacy_timeout_seconds: float = Field(
        default=LEGACY_TIMEOUT_SECONDS,
        gt=0,
        description="with legacy_processes: a worker still busy with one request after "
        "this long is killed and replaced, and its client gets a 504",
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description="largest request body, unless the Flask app sets MAX_CONTENT_LENGTH",
    )
    python_path: TextList = Field(
        default_factory=list,
        description="folders put first on sys.path, relative to the manifest "
        f"('{os.pathsep}'-separated)",
    )
    shadow: ShadowOptions = Field(default_factory=ShadowOptions)
    server: ServerOptions = Field(default_factory=ServerOptions)

    @field_validator("python_path", mode="before")
    @classmethod
    def _path_list(cls, value: Any) -> Any:
        return split_list(value, os.pathsep)

    @field_validator("sticky_jwt_algorithms", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return split_list(value, ",")

    @field_validator("legacy_prefix")
    @classmethod
    def _legacy_prefix(cls, prefix: str) -> str:
        if prefix != ROOT and not _PREFIX.fullmatch(prefix):
            raise ValueError("must be '/' or look like '/legacy': path segments, no trailing '/'")
        return prefix

    @field_validator("v2_prefix", "gateway_prefix")
    @classmethod
    def _prefix(cls, prefix: str | None) -> str | None:
        if prefix is not None and not _PREFIX.fullmatch(prefix):
            raise ValueError("must look like '/v2': path segments, no trailing '/'")
        return prefix

    @model_validator(mode="after")
    def _prefixes(self) -> Self:
        named = {"v2_prefix": self.v2_prefix, "gateway_prefix": self.own_prefix}
        if self.legacy_base:
            named["legacy_prefix"] = self.legacy_base
        taken = [(name, prefix) for name, prefix in named.items() if prefix]
        for i, (name_a, a) in enumerate(taken):
            for name_b, b in taken[i + 1 :]:
                if a == b or a.startswith(b + "/") or b.startswith(a + "/"):
                    raise ValueError(f"{name_a} {a!r} and {name_b} {b!r} must not overlap")
        return self

    @property
    def legacy_base(self) -> str:
        """What goes before a legacy app's path: '' for an app at the root."""
        return "" if self.legacy_prefix == ROOT else self.legacy_prefix

    @property
    def prefixes(self) -> Prefixes:
        return Prefixes(legacy=self.legacy_base, v2=self.v2_prefix, own=self.own_prefix)

    @property
    def own_prefix(self) -> str:
        """Where the gateway's own endpoints are: '' (the root) unless the legacy app has it."""
        if self.gateway_prefix is not None:
            return self.gateway_prefix
        return OWN_PREFIX_AT_ROOT if self.legacy_prefix == ROOT else ""


# The option tables that hold options of their own ([gateway.shadow], [gateway.server]).
GROUPS: dict[str, type[BaseModel]] = {"shadow": ShadowOptions, "server": ServerOptions}
