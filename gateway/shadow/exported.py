"""What an exported parity test runs: v2, built from the team's manifest, asked what legacy was
asked and expected to answer as legacy did, after the module's ignore and noise rules.

``gateway parity export`` writes the files that use it; a team runs them with pytest and fixes
v2 until they pass. The shadow never stores credentials: a request recorded with them runs
with ``GATEWAY_PARITY_AUTHORIZATION`` as its ``Authorization`` header, and is skipped without.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from gateway.config.configuration import load_config
from gateway.config.loading import load_v2
from gateway.mounts.sides import V2Side
from gateway.shadow.compare import compare

AUTHORIZATION_VARIABLE = "GATEWAY_PARITY_AUTHORIZATION"
# How long v2 may take over one request of a test.
ANSWER_SECONDS = 30.0


class ParityV2:
    """v2 as the manifest at ``manifest`` configures it, judged for ``module``."""

    def __init__(self, manifest: str | Path, module: str) -> None:
        self.config = load_config(Path(manifest))
        self.module = self.config.manifest.module(module)
        app = load_v2(self.config)
        if app is None:
            raise LookupError(f"{manifest} names no v2 app")
        self.side = V2Side(app)

    def expect(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        authenticated: bool,
        status: int,
        body: Any,
        redacted: Sequence[str] = (),
    ) -> None:
        """Send the request (``path`` as the legacy client sent it) to v2, and fail unless v2
        answers ``status`` and ``body`` as legacy did."""
        sent = dict(headers)
        if authenticated:
            credentials = os.environ.get(AUTHORIZATION_VARIABLE)
            if not credentials:
                import pytest  # only ever run under pytest

                pytest.skip(f"recorded with credentials: set {AUTHORIZATION_VARIABLE}")
            sent["authorization"] = credentials
        v2_status, v2_body = asyncio.run(self._ask(method, path, query, sent))
        expected = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        verdict = compare(
            legacy_status=status,
            legacy_body=expected,
            v2_status=v2_status,
            v2_body=v2_body,
            ignore=[*self.module.ignore, *redacted],
            noise=self.module.noise,
        )
        assert verdict.matched, (
            f"v2 answers {method} {path} unlike legacy ({verdict.signature}):\n"
            + json.dumps(verdict.diff, indent=2)[:4000]
        )

    async def _ask(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        options = self.config.options
        rest = path.removeprefix(options.legacy_base) or "/"
        v2_path = options.v2_prefix + self.module.v2_path(rest)
        transport = httpx.ASGITransport(app=self.side.asgi, root_path=options.v2_prefix)
        client = httpx.AsyncClient(transport=transport, base_url="http://gateway")
        url = v2_path + (f"?{query}" if query else "")
        async with self.side.running(), client:
            async with asyncio.timeout(ANSWER_SECONDS):
                answer = await client.request(method, url, headers=dict(headers))
        return answer.status_code, answer.content
