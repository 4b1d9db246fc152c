"""What every ``gateway`` command shares: the option flags, reading the configuration,
loading what it names, and the one way a configuration problem becomes a message."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from gateway.config.configuration import MANIFEST_VARIABLE, Config, load_config
from gateway.config.errors import ConfigError
from gateway.config.loading import load_legacy, load_v2
from gateway.config.sources import env_name, every_option, flag_name
from gateway.edge.problems import error_renderer
from gateway.mounts.coverage import coverage_problems
from gateway.mounts.sides import Sides, load_sides
from gateway.records import migrate
from gateway.records.store import RecordStore
from gateway.records.urls import records_database
from gateway.routing.sticky import sticky_key

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class ConfigArgs:
    """The manifest flag and the option flags given (dotted names, ``None`` when not given)."""

    manifest: Path | None
    flags: dict[str, Any]


def config_options(command: F) -> F:
    """Add ``--manifest`` and a flag for every option; the command receives ``config_args``."""
    options = list(every_option())
    params = {name: name.replace(".", "__") for name, _info in options}

    @functools.wraps(command)
    def wrapped(*args: Any, manifest: Path | None, **kwargs: Any) -> Any:
        flags = {name: kwargs.pop(param) for name, param in params.items()}
        return command(*args, config_args=ConfigArgs(manifest, flags), **kwargs)

    for name, info in reversed(options):
        help_text = f"{info.description or name} [{env_name(name)}]"
        wrapped = click.option(flag_name(name), params[name], default=None, help=help_text)(wrapped)
    wrapped = click.option(
        "--manifest",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=f"The manifest (default: {MANIFEST_VARIABLE}, else ./migration.toml if present).",
    )(wrapped)
    return wrapped  # type: ignore[return-value]


class InvalidConfiguration(click.ClickException):
    """Every problem, one line each, after one heading; exit status 1."""

    def __init__(self, error: ConfigError) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(error.problems))


@contextmanager
def reported() -> Iterator[None]:
    """Turn a :class:`ConfigError` raised inside into the command's error message."""
    try:
        yield
    except ConfigError as exc:
        raise InvalidConfiguration(exc) from exc


def read_config(args: ConfigArgs) -> Config:
    with reported():
        return load_config(args.manifest, flags=args.flags)


def load_everything(config: Config) -> Sides:
    """Load what start-up loads (the apps, the error renderer, the sticky key), reporting
    every problem at once."""
    problems: list[str] = []

    def attempt(load: Callable[[], Any]) -> Any:
        try:
            return load()
        except ConfigError as exc:
            problems.extend(exc.problems)
            return None

    errors = attempt(lambda: error_renderer(config))
    legacy = attempt(lambda: load_legacy(config))
    v2 = attempt(lambda: load_v2(config))
    attempt(lambda: sticky_key(config))
    with reported():
        if problems:
            raise ConfigError(problems)
        return load_sides(config, errors=errors, legacy=legacy, v2=v2)


def load_checked(config: Config) -> Sides:
    """What start-up loads and refuses: :func:`load_everything`, then every route a module
    beyond shadow would take from clients (v2 lacks it and it is not kept on legacy)."""
    sides = load_everything(config)
    with reported():
        if problems := coverage_problems(sides, config):
            raise ConfigError(problems)
    return sides


def records_url(config: Config, sides: Sides) -> str:
    with reported():
        url = records_database(config, sides.legacy.database_url)
    return url.render_as_string(hide_password=False)


def echo_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@contextmanager
def open_records(config: Config, sides: Sides) -> Iterator[RecordStore]:
    """The records store, upgraded first; its engine disposed of afterwards."""
    url = records_url(config, sides)
    migrate.upgrade(url)  # the records may be older than this gateway
    store = RecordStore(url)
    try:
        yield store
    finally:
        store.engine.dispose()


def module_or_fail(config: Config, name: str) -> None:
    """A usage error (exit 2) unless the manifest has a module ``name``."""
    if not any(module.name == name for module in config.manifest.modules):
        known = ", ".join(module.name for module in config.manifest.modules) or "none"
        raise click.BadParameter(f"no module {name!r} in {config.manifest.source} ({known})")
