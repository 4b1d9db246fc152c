"""The deployment a team runs without the gateway: nginx in front of two services.

- gunicorn serves ``legacy_flask:create_app()`` with 4 sync workers, with ``SCRIPT_NAME``
  ``/legacy`` (it takes the prefix off each path), so Flask sees what the gateway hands it;
- uvicorn serves ``v2:create_app`` (a factory) with 2 workers and ``--root-path /v2``;
- nginx (Debian's package, 1 worker) routes ``/legacy/`` and ``/v2/`` to them over kept-alive
  upstream connections, from ``nginx.conf.template``, with every file it writes in a
  temporary directory.

The three masters are started in that order, each waited for with the deadline of
``servers.serve``, and stopped in reverse order (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import shutil
import string
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import httpx

from servers import BIN, Deployment, Server, free_port, gunicorn, serve

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX = "/usr/sbin/nginx"  # Debian's; not on the PATH of a user without sbin in it
LEGACY_WORKERS = 4
V2_WORKERS = 2
LEGACY_PREFIX = "/legacy"
V2_PREFIX = "/v2"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (NGINX if os.access(NGINX, os.X_OK) else None)


def nginx_config(directory: Path, port: int, legacy: Server, v2: Server) -> str:
    """The configuration for one run. nginx switches its worker to ``user`` only when its
    master runs as root; without the line it picks ``nobody``, which could not write the
    temporary directory, so as root the worker stays root (loopback, a throw-away run)."""
    user_line = "user root;" if os.geteuid() == 0 else ""
    return string.Template(TEMPLATE.read_text()).substitute(
        user_line=user_line,
        directory=directory,
        port=port,
        legacy=legacy.base.removeprefix("http://"),
        v2=v2.base.removeprefix("http://"),
    )


def uvicorn_v2(env: Mapping[str, str], workers: int = V2_WORKERS) -> AbstractContextManager[Server]:
    """v2 alone on uvicorn, answering ``/api/...`` as ``/v2/api/...`` (its root path). The
    access log stays on (to /dev/null), as under ``gateway serve``, so both pay for it."""
    port = free_port()
    command = [str(BIN / "uvicorn"), "--factory", "v2:create_app", "--workers", str(workers)]
    command += ["--root-path", V2_PREFIX, "--host", "127.0.0.1", "--port", str(port)]
    return serve(command, env, port, "/api/tags")


@contextmanager
def nginx(legacy: Server, v2: Server) -> Iterator[Server]:
    """nginx in front of the two, in a temporary directory removed afterwards."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as scratch:
        directory = Path(scratch)
        port = free_port()
        config = directory / "nginx.conf"
        config.write_text(nginx_config(directory, port, legacy, v2))
        command = [binary, "-p", str(directory), "-c", str(config)]
        command += ["-e", str(directory / "error.log")]
        # Through nginx to both backends: it is ready once each answers through it.
        with serve(command, os.environ, port, f"{LEGACY_PREFIX}/api/tags") as front:
            httpx.get(front.base + f"{V2_PREFIX}/api/tags", timeout=10).raise_for_status()
            yield front


@contextmanager
def two_services(env: Mapping[str, str]) -> Iterator[Deployment]:
    """The three servers on ``env``'s database; the deployment's address is nginx's."""
    with ExitStack() as stack:
        legacy = stack.enter_context(
            gunicorn(env, "sync", workers=LEGACY_WORKERS, script_name=LEGACY_PREFIX)
        )
        v2 = stack.enter_context(uvicorn_v2(env))
        front = stack.enter_context(nginx(legacy, v2))
        yield Deployment(front.base, (front.pid, legacy.pid, v2.pid))
