"""The ASGI entry point: ``uvicorn gateway.asgi:app``, as ``gateway serve`` runs it.

The configuration comes from the manifest (``GATEWAY_MANIFEST`` or ``./migration.toml``) and
``GATEWAY_*`` variables; ``gateway serve`` hands its flags to the workers that way, and every
worker reads them here, once.

Process-wide settings are made here, in the server's worker, and not by ``create_app()``
(which tests and embedding applications call in processes of their own):

- the edge's limits and error renderer, for the connections uvicorn's protocol accepts;
- the interpreter's switch interval (``server.switch_interval_ms``): how long the event loop
  may wait for a legacy thread to let go of the interpreter lock;
- everything built at start-up (modules, both apps, their routes, models and schemas) lives
  as long as the process, so it is frozen out of the garbage collector's sight: a full
  collection then walks only what requests create. Measured (``make bench``, SQLite, the
  legacy article list saturated): the longest pause went from 70 ms to under 3 ms.
"""

from __future__ import annotations

import gc
import sys

from gateway.app import create_app
from gateway.config.configuration import load_config
from gateway.edge.problems import error_renderer
from gateway.edge.protocol import configure_protocol

config = load_config()
configure_protocol(config.options.server, error_renderer(config))
sys.setswitchinterval(config.options.server.switch_interval_ms / 1000)
app = create_app(config, replay_process=True)
gc.collect()
gc.freeze()
