"""``GET /health``: is the gateway up, and can it reach the database of its records?"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.records.store import RecordStore

# A probe must see the state of now, never a copy kept by a cache on the way.
_NO_STORE = {"Cache-Control": "no-store"}


def health_router(store: RecordStore) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health")
    async def health() -> JSONResponse:
        if await store.ping():
            return JSONResponse({"status": "ok", "database": "ok"}, headers=_NO_STORE)
        return JSONResponse(
            {"status": "degraded", "database": "unreachable"},
            status_code=HTTPStatus.SERVICE_UNAVAILABLE,
            headers=_NO_STORE,
        )

    return router
