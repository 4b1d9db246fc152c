"""The ``gateway`` command: set up, check and serve the gateway for any Flask app.

Every command reads the same configuration: the manifest (``--manifest``,
``GATEWAY_MANIFEST`` or ``./migration.toml``), ``GATEWAY_*`` variables and a flag for every
option, each overriding the one before. A configuration problem stops the command with one
line per problem, naming where it was set.
"""

from __future__ import annotations

import click

from gateway.cli import parity_check  # noqa: F401  (registers `gateway parity check`)
from gateway.cli.control import gates_command, promote, rollback, set_command
from gateway.cli.init import init
from gateway.cli.manifest import manifest
from gateway.cli.parity import parity_command
from gateway.cli.records import db
from gateway.cli.routes import routes
from gateway.cli.runtime import history_command, status
from gateway.cli.serve import serve


@click.group()
def main() -> None:
    """Incremental Flask-to-FastAPI migration gateway."""


for command in (
    serve,
    db,
    manifest,
    routes,
    parity_command,
    init,
    set_command,
    promote,
    rollback,
    status,
    history_command,
    gates_command,
):
    main.add_command(command)
