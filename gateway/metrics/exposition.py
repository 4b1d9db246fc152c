"""``GET /metrics``: the Prometheus text format, for the operator's token only.

Off (404) without an ``admin_token``, so that nothing about the migration is told to anyone
by default; a 401 for a missing or wrong token. Besides what every worker counted (the
multiprocess files, or this process's instruments), each scrape adds what the runtime state
says now, which is the same in every worker once it has followed: each module's state and
the changes made to it, by kind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.exceptions import HTTPException
from starlette.responses import Response

from gateway.config.manifest import Manifest, State
from gateway.edge.admin import AdminToken
from gateway.metrics import multiprocess
from gateway.metrics.instruments import Metrics

# gateway_module_state's value: the states in the order a module moves through them.
STATE_VALUES = {state: index for index, state in enumerate(State)}
_NO_STORE = {"Cache-Control": "no-store"}

# What the runtime state says now: the manifest serving, and changes counted by (module, kind).
Runtime = Callable[[], tuple[Manifest, Mapping[tuple[str, str], int]]]


class _RuntimeState:
    def __init__(self, manifest: Manifest, changes: Mapping[tuple[str, str], int]) -> None:
        self.manifest = manifest
        self.changes = changes

    def collect(self) -> Iterable[Metric]:
        order = ", ".join(f"{value} {state.value}" for state, value in STATE_VALUES.items())
        states = GaugeMetricFamily(
            "gateway_module_state", f"Each module's state now: {order}.", labels=["module"]
        )
        for module in self.manifest.modules:
            states.add_metric([module.name], STATE_VALUES[module.state])
        changes = CounterMetricFamily(
            "gateway_state_changes",
            "Runtime changes of a module's state, by kind: manual, forced or automatic.",
            labels=["module", "kind"],
        )
        for (module_name, kind), count in sorted(self.changes.items()):
            changes.add_metric([module_name, kind], count)
        return [states, changes]


def render(metrics: Metrics, manifest: Manifest, changes: Mapping[tuple[str, str], int]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_RuntimeState(manifest, changes))
    path = multiprocess.folder()
    if path is None:
        for instrument in metrics.collectors:
            registry.register(instrument)
        return generate_latest(registry)
    multiprocess.collector(registry, path)
    with multiprocess.reading(path):
        return generate_latest(registry)


def metrics_router(
    metrics: Metrics | None, admin: AdminToken | None, runtime: Runtime
) -> APIRouter:
    """``GET /metrics``; ``metrics`` is None exactly when there is no ``admin`` token (nothing
    is counted that nobody may read)."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if admin is None or metrics is None:
            raise HTTPException(HTTPStatus.NOT_FOUND)  # off: as if there were no such page
        if not admin.presented(request.scope):
            raise HTTPException(
                HTTPStatus.UNAUTHORIZED,
                "the admin token is missing or wrong",
                headers={"WWW-Authenticate": 'Bearer realm="gateway"'},
            )
        manifest, changes = runtime()
        # The files are read on a thread: with many workers they are many small reads.
        body = await asyncio.to_thread(render, metrics, manifest, changes)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers=_NO_STORE)

    return router
