"""The ASGI entry point: ``uvicorn gateway.asgi:app``.

The configuration comes from the manifest (``GATEWAY_MANIFEST`` or ``./migration.toml``) and
``GATEWAY_*`` variables; ``gateway serve`` passes its flags to the workers that way.

Two process-wide settings are made here, in the server's worker, and not by ``create_app()``
(which tests and embedding applications call in processes of their own):

- the interpreter's switch interval (``server.switch_interval_ms``): how long the event loop
  may wait for a legacy thread to let go of the interpreter lock;
- everything built at start-up (modules, both apps, their routes, models and schemas) lives
  as long as the process, so it is frozen out of the garbage collector's sight: a full
  collection then walks only what requests create. Measured (``make bench``, SQLite, the
  legacy article list saturated): the longest collection pause went from 70 ms to under
  5 ms, and a /v2 probe's p99 from 68 ms to 9 ms.
"""

from __future__ import annotations

import gc
import sys

from gateway.app import create_app
from gateway.config import load_config

config = load_config()
sys.setswitchinterval(config.options.server.switch_interval_ms / 1000)
app = create_app(config, replay_process=True)
gc.collect()
gc.freeze()
