"""The ASGI entry point: ``uvicorn gateway.asgi:app``.

The configuration comes from the manifest (``GATEWAY_MANIFEST`` or ``./migration.toml``) and
``GATEWAY_*`` variables; ``gateway serve`` passes its flags to the workers that way.
"""

from __future__ import annotations

from gateway.app import create_app

app = create_app()
