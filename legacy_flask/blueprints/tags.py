"""Tags in use."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from legacy_flask.db import get_session
from shared.queries import tags_in_use

bp = Blueprint("tags", __name__, url_prefix="/api")


@bp.get("/tags")
def list_tags() -> dict[str, Any]:
    """Tags in use.

    ---
    get:
      responses:
        200:
          description: The tags
          content: {application/json: {schema: TagsSchema}}
    """
    return {"tags": list(get_session().scalars(tags_in_use()))}
