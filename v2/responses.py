"""JSON answers with the charset the Conduit contract names."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response


class ConduitJSONResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"


class RenderedJSON(Response):
    """A body already rendered to JSON bytes (``v2.article_rows``): sent as it is."""

    media_type = ConduitJSONResponse.media_type
