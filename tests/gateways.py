"""The Conduit example configured into the gateway, as the tests build it.

The apps are built here on the suite's one database (so tests can seed and inspect it) and
handed to the gateway; the configuration is the shipped manifest's, or a test's own
manifest with the Conduit example's options.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

import legacy_flask
import v2 as conduit_v2
from gateway.app import create_app
from gateway.config.configuration import Config, configure
from gateway.config.manifest import load_manifest, parse_manifest
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings

CONDUIT_MANIFEST = Path(__file__).resolve().parents[1] / "migration.toml"
# The suite's pass for the legacy process mode sets it (the Makefile's pytest-processes):
# every gateway built here then serves its legacy app from that many processes.
LEGACY_PROCESSES = int(os.environ.get("GATEWAY_TEST_LEGACY_PROCESSES") or 0)

# What the shipped manifest's [gateway] table says, for tests that bring their own modules.
CONDUIT_OPTIONS: dict[str, Any] = {
    "legacy": "legacy_flask:create_app",
    "v2": "v2:create_app",
    "sticky": "bearer-sub",
    "errors": "v2.errors:gateway_error",
}


def conduit_config(manifest: str | None = None, **options: Any) -> Config:
    """The shipped configuration, or ``manifest``'s modules with Conduit's options; the
    process environment is ignored (but for the suite's legacy mode)."""
    if LEGACY_PROCESSES:
        options = {"legacy_processes": LEGACY_PROCESSES, **options}
    if manifest is None:
        return configure(load_manifest(CONDUIT_MANIFEST), flags=options, environ={})
    return configure(
        parse_manifest(manifest, source="test-manifest.toml"),
        flags={**CONDUIT_OPTIONS, **options},
        environ={},
    )


def conduit_gateway(
    settings: Settings,
    database: Database,
    records: RecordStore,
    *,
    manifest: str | None = None,
    legacy: Any = None,
    v2: Any = None,
    **options: Any,
) -> FastAPI:
    return create_app(
        conduit_config(manifest, **options),
        legacy=legacy
        if legacy is not None
        else legacy_flask.create_app(settings, database=database),
        v2=v2 if v2 is not None else conduit_v2.create_app(settings, database=database),
        store=records,
    )
