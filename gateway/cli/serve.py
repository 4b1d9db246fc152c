"""``gateway serve``: check everything, upgrade the records once, then serve with uvicorn."""

from __future__ import annotations

import importlib
import os

import click
import uvicorn

from gateway.cli.common import ConfigArgs, config_options, load_checked, read_config
from gateway.cli.prefork import serve_forked
from gateway.cli.records import upgrade
from gateway.config.configuration import MANIFEST_VARIABLE
from gateway.config.sources import env_name
from gateway.edge.protocol import uvicorn_settings
from gateway.metrics import multiprocess
from gateway.mounts.legacy.pool import LEGACY_SOCKET_VARIABLE


def export(args: ConfigArgs) -> None:
    """Hand the configuration to uvicorn's workers, which read it as ``GATEWAY_*``."""
    if args.manifest is not None:
        os.environ[MANIFEST_VARIABLE] = str(args.manifest.resolve())
    for name, value in args.flags.items():
        if value is not None:
            os.environ[env_name(name)] = str(value)


@click.command()
@config_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="uvicorn worker processes, forked from one built gateway.",
)
def serve(config_args: ConfigArgs, host: str, port: int, workers: int) -> None:
    """Check the configuration, upgrade the gateway's records, then serve with uvicorn."""
    # First, before a team's app is loaded: every process from here on counts into it.
    with multiprocess.serving():
        _serve(config_args, host=host, port=port, workers=workers)


def _serve(config_args: ConfigArgs, *, host: str, port: int, workers: int) -> None:
    config = read_config(config_args)
    sides = load_checked(config)  # a bad configuration stops here, before any worker
    # Once, here, before any worker starts: workers never race to migrate.
    upgrade(config, sides)
    export(config_args)
    # One set of legacy processes for every worker (legacy_processes), started before them.
    processes = sides.legacy.asgi.processes
    if processes is not None:
        processes.start()
        os.environ[LEGACY_SOCKET_VARIABLE] = processes.socket_path
    settings = uvicorn_settings(config.options.server)
    try:
        if workers == 1:
            # uvicorn's "auto" loop picks uvloop when it is installed; the protocol is httptools'.
            uvicorn.run("gateway.asgi:app", host=host, port=port, **settings)
        else:
            # Built here, from what the workers would read, then forked into them.
            app = importlib.import_module("gateway.asgi").app
            serve_forked(app, host=host, port=port, workers=workers, uvicorn=settings)
    finally:
        if processes is not None:
            processes.stop()
