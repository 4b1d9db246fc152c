"""Tags in use."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response
from sqlalchemy import Connection

from shared.queries import tags_in_use
from v2.deps import DatabaseDep
from v2.responses import RenderedJSON
from v2.schemas import TagsEnvelope

router = APIRouter(tags=["tags"])


_TAGS_IN_USE = tags_in_use()


def _tags_json(conn: Connection) -> bytes:
    return orjson.dumps({"tags": list(conn.scalars(_TAGS_IN_USE))})


@router.get("/tags", response_model=TagsEnvelope)
async def list_tags(database: DatabaseDep) -> Response:
    return RenderedJSON(await database.run(_tags_json, write=False))
