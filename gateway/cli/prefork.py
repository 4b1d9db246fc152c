"""``gateway serve --workers N``: the gateway built once, then forked into N uvicorn workers.

uvicorn's own supervisor spawns its workers: each starts a fresh interpreter and imports and
builds everything again (both apps, their models and schemas), so each costs as much memory as
the first. Here the serving process builds the gateway once and gunicorn's arbiter
(``preload_app``) forks the workers from it. They share its pages, copy-on-write, the way the
legacy processes share theirs; gunicorn restarts a worker that dies, replaces one whose event
loop stops answering for ``timeout`` seconds, and stops them all gracefully on SIGTERM or
SIGINT.

Each worker is uvicorn's own (``uvicorn_worker.UvicornWorker``, kept by uvicorn's maintainers)
with the gateway's protocol and limits. It stops by itself, gracefully, when the serving
process is killed without stopping it: a lifeline tells it at once.
"""

from __future__ import annotations

import os
from typing import Any

from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

from gateway.metrics import multiprocess
from gateway.mounts.legacy.arbiter import ConfiguredGunicorn
from gateway.mounts.legacy.forking import (
    forget_parent_state,
    lifeline,
    release,
    stop_when_orphaned,
)


class _GatewayWorker(UvicornWorker):  # type: ignore[misc]
    LIFELINE = -1  # the reading end of the serving process's lifeline

    def init_process(self) -> None:
        forget_parent_state()
        stop_when_orphaned(self.LIFELINE)
        super().init_process()


def serve_forked(app: Any, *, host: str, port: int, workers: int, uvicorn: dict[str, Any]) -> None:
    """Serve ``app`` (already built) from ``workers`` forked uvicorn workers, until stopped."""
    reading, writing = lifeline()
    given = {"CONFIG_KWARGS": {"loop": "auto", **uvicorn}, "LIFELINE": reading}
    worker = type("GatewayWorker", (_GatewayWorker,), given)
    settings: dict[str, Any] = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],  # IPv6 in brackets
        "workers": workers,
        "worker_class": worker,
        "preload_app": True,  # load() hands over the built app: nothing is imported again
        "accesslog": "-",  # uvicorn's access lines on standard output, as uvicorn.run prints them
        "proc_name": "gateway",
        "control_socket_disable": True,  # gunicorn 27's ~/.gunicorn socket, one per user
    }
    if (metrics := multiprocess.folder()) is not None:
        # A dead worker's counts are kept, its files folded away (gateway.metrics.multiprocess).
        settings["child_exit"] = lambda _arbiter, _worker: multiprocess.fold_dead(metrics)
    try:
        ConfiguredGunicorn(app, settings).run()
    finally:
        release(writing)
        os.close(reading)
