"""Apps planted for the parity tests: legacy apps with noise, v2 apps with a divergence.

``plant`` adds a fresh UUID (``nonce``) and the moment of the answer (``servedAt``) to each
JSON object a legacy app answers, so that two answers to one request differ there and nowhere
else. ``UpperCased`` is a v2 whose answers on one path come back upper-cased.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response
from sqlalchemy import delete
from starlette.types import Message, Receive, Scope, Send

from gateway.records.store import RecordStore
from gateway.records.tables import NoiseRun, ShadowComparison


def plant(app: Flask) -> Flask:
    @app.after_request
    def planted(response: Response) -> Response:
        body = response.get_json(silent=True) if response.is_json else None
        if isinstance(body, dict):
            body["nonce"] = str(uuid.uuid4())
            body["servedAt"] = datetime.now(UTC).isoformat(timespec="microseconds")
            response.set_data(json.dumps(body))
        return response

    return app


# Every notes app built here, until its test lets go of its connections (dispose_notes).
NOTES_BUILT: list[Flask] = []


def notes() -> Flask:
    """The notes example's legacy app, as its manifest builds it (NOTES_* variables), planted."""
    return plant(faithful_notes())


def faithful_notes() -> Flask:
    """The notes example's legacy app as it is, disposed of by ``dispose_notes``."""
    from notes_app import create_app  # found on the path the notes tests put its folder on

    app = create_app()
    NOTES_BUILT.append(app)
    return app


def dispose_notes() -> None:
    """Close the pooled connections of the notes apps built (a command that built one, run
    in the test's process, leaves them to the garbage collector)."""
    while NOTES_BUILT:
        app = NOTES_BUILT.pop()
        with app.app_context():
            for engine in app.extensions["sqlalchemy"].engines.values():
                engine.dispose()


class UpperCased:
    """``app``, but its answers on paths ending in ``suffix`` come back upper-cased (only
    those of status ``status``, when given: a divergence in what a write creates)."""

    def __init__(self, app: Any, suffix: str, *, status: int | None = None) -> None:
        self.app = app
        self.suffix = suffix
        self.status = status

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # its OpenAPI, routes... are the app's

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith(self.suffix):
            await self.app(scope, receive, send)
            return

        chosen = self.status is None

        async def upper(message: Message) -> None:
            nonlocal chosen
            if message["type"] == "http.response.start":
                chosen = chosen or message["status"] == self.status
            elif message["type"] == "http.response.body" and chosen:
                message = {**message, "body": message.get("body", b"").upper()}
            await send(message)

        await self.app(scope, receive, upper)


def divergent_notes_v2() -> Any:
    """The notes example's v2 (NOTES_* variables), its note list upper-cased."""
    from notes_v2 import create_app  # found on the path the notes tests put its folder on

    return UpperCased(create_app(), "/api/notes")


def forget_module(records: RecordStore, module: str) -> None:
    """Delete what ``records`` holds of ``module``: other tests read the same store."""
    with records.session() as session, session.begin():
        session.execute(delete(ShadowComparison).where(ShadowComparison.module == module))
        session.execute(delete(NoiseRun).where(NoiseRun.module == module))


def shadowed(
    folder: Path,
    records: RecordStore,
    *,
    module: str,
    paths: list[str],
    legacy: str,
    v2: str,
    python_path: Sequence[Path] = (),
    forget: bool = True,
    module_lines: str = "",
) -> Path:
    """A manifest in ``folder`` with one module shadowed at 100 % and the apps named by
        import string, recording into ``records``; the module's rows there are forgotten first
        unless told (a manifest written again, its v2 fixed, keeps them). ``module_lines`` go in the
    module's table."""
    if forget:
        forget_module(records, module)
    url = records.url.render_as_string(hide_password=False)
    folders = ", ".join(f'"{path}"' for path in python_path)
    path = folder / "migration.toml"
    path.write_text(
        f"""[gateway]
legacy = "{legacy}"
v2 = "{v2}"
database = "{url}"
python_path = [{folders}]

[[module]]
name = "{module}"
paths = {json.dumps(paths)}
state = "shadow"
shadow_sample_rate = 1.0
{module_lines}
""",
        encoding="utf-8",
    )
    return path
