"""Tags in use."""

from __future__ import annotations

from fastapi import APIRouter

from shared.queries import tags_in_use
from v2.deps import SessionDep
from v2.schemas import TagsEnvelope

router = APIRouter(tags=["tags"])


@router.get("/tags", response_model=TagsEnvelope)
async def list_tags(session: SessionDep) -> TagsEnvelope:
    return TagsEnvelope(tags=list(await session.scalars(tags_in_use())))
