"""JSON answers with the charset the Conduit contract names."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class ConduitJSONResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"
