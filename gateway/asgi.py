"""The ASGI entry point: ``uvicorn gateway.asgi:app``.

The configuration comes from the manifest (``GATEWAY_MANIFEST`` or ``./migration.toml``) and
``GATEWAY_*`` variables; ``gateway serve`` passes its flags to the workers that way.
"""

from __future__ import annotations

import sys

from gateway.app import create_app
from gateway.config import load_config

config = load_config()
# A process-wide setting, so it is made here, in the server's worker, not by create_app().
sys.setswitchinterval(config.options.server.switch_interval_ms / 1000)
app = create_app(config)
