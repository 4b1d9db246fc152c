"""Tags in use."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from shared.queries import tags_in_use
from v2.deps import DatabaseDep
from v2.responses import RenderedJSON
from v2.schemas import TagsEnvelope

router = APIRouter(tags=["tags"])


def _tags_json(session: Session) -> bytes:
    return orjson.dumps({"tags": list(session.scalars(tags_in_use()))})


@router.get("/tags", response_model=TagsEnvelope)
async def list_tags(database: DatabaseDep) -> Response:
    return RenderedJSON(await database.run(_tags_json, write=False))
