"""The whole configuration of one gateway: its options and its manifest, checked together.

``load_config`` reads the manifest (``--manifest``, ``GATEWAY_MANIFEST`` or ``migration.toml``
in the working directory, if there is one) and the options from its ``[gateway]`` table,
``GATEWAY_*`` variables and flags. Everything wrong is reported at once, each with its place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config.errors import ConfigError
from gateway.config.manifest import DEFAULT_MANIFEST, Manifest, State, load_manifest
from gateway.config.options import GatewayOptions
from gateway.config.sources import env_name, environment_options, flag_name, resolve

MANIFEST_VARIABLE = "GATEWAY_MANIFEST"


@dataclass(frozen=True, slots=True)
class Config:
    options: GatewayOptions = field(default_factory=GatewayOptions)
    manifest: Manifest = field(default_factory=Manifest)
    # Per option given: where its value came from ("migration.toml:3", "GATEWAY_V2"...).
    where: dict[str, str] = field(default_factory=dict)

    def place(self, option: str) -> str:
        """Where ``option`` was set, or how to set it when it was not."""
        return self.where.get(
            option, f"{option} (set it in [gateway], {env_name(option)} or {flag_name(option)})"
        )

    @property
    def base_directory(self) -> Path:
        return self.manifest.directory or Path.cwd()


def manifest_path(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The manifest to read: named by flag or variable (it must exist), else ./migration.toml."""
    if explicit is not None:
        return explicit
    if environ.get(MANIFEST_VARIABLE):
        return Path(environ[MANIFEST_VARIABLE])
    return DEFAULT_MANIFEST if DEFAULT_MANIFEST.is_file() else None


def load_config(
    manifest: Path | None = None,
    *,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    environ = os.environ if environ is None else environ
    path = manifest_path(manifest, environ)
    loaded = load_manifest(path) if path is not None else Manifest()
    return configure(loaded, flags=flags or {}, environ=environ)


def configure(
    manifest: Manifest,
    *,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Combine a parsed manifest with the environment's and the flags' options."""
    given = {key: value for key, value in (flags or {}).items() if value is not None}
    options, where = resolve(
        table=manifest.options,
        table_lines=manifest.option_lines,
        environment=environment_options(environ),
        flags=given,
    )
    config = Config(options=options, manifest=manifest, where=where)
    problems = _needs_v2(config) + _writes_readable(config)
    if problems:
        raise ConfigError(problems)
    return config


def _needs_v2(config: Config) -> list[str]:
    if config.options.v2 is not None:
        return []
    return [
        f"{config.manifest.source}:{module.line}: module {module.name}: state {module.state} "
        "needs a v2 app: set v2 in [gateway], GATEWAY_V2 or --v2"
        for module in config.manifest.modules
        if module.state is not State.legacy
    ]


def _writes_readable(config: Config) -> list[str]:
    """Shadowed writes read the legacy app's statements in the gateway's own process."""
    if config.options.legacy_processes == 0:
        return []
    return [
        f"{config.manifest.source}:{module.line}: module {module.name}: shadow_writes needs "
        "the legacy app in the gateway's process, where its writes can be read: "
        f"legacy_processes is {config.options.legacy_processes} "
        f"({config.place('legacy_processes')}): set it to 0"
        for module in config.manifest.modules
        if module.shadow_writes
    ]
