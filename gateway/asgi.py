"""The ASGI entry point: ``uvicorn gateway.asgi:app``. Settings come from ``GATEWAY_*``."""

from __future__ import annotations

from gateway.app import create_app

app = create_app()
