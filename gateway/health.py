"""``GET /health``: is the gateway up, and can it reach its database?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from v2.deps import DatabaseDep

router = APIRouter(tags=["health"])

# A probe must see the state of now, never a copy kept by a cache on the way.
_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/health")
async def health(database: DatabaseDep) -> JSONResponse:
    if await database.ping():
        return JSONResponse({"status": "ok", "database": "ok"}, headers=_NO_STORE)
    return JSONResponse(
        {"status": "degraded", "database": "unreachable"}, status_code=503, headers=_NO_STORE
    )
