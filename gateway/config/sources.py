"""Where each option's value comes from: the manifest, ``GATEWAY_*`` variables or flags.

The later wins: the manifest's ``[gateway]`` table, a ``GATEWAY_<OPTION>`` variable
(``GATEWAY_SHADOW__QUEUE_SIZE`` for a nested one), a ``--<option>`` flag
(``--shadow-queue-size``). Every value remembers where it came from, so a bad one is
reported with its place: ``migration.toml:4``, ``GATEWAY_LEGACY`` or ``--legacy``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from gateway.config.errors import ConfigError
from gateway.config.options import GROUPS, GatewayOptions

ENV_PREFIX = "GATEWAY_"
NESTED = "__"


class _FromEnvironment(BaseSettings, GatewayOptions):
    """Only a reader of ``GATEWAY_*``: values are validated with the others, in one place."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter=NESTED)


def environment_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The options set by ``GATEWAY_*`` variables (``environ`` defaults to the process's)."""
    source = EnvSettingsSource(_FromEnvironment)
    if environ is not None:
        source.env_vars = {k.lower(): v for k, v in environ.items()}
    return dict(source())


def env_name(option: str) -> str:
    """``shadow.queue_size`` -> ``GATEWAY_SHADOW__QUEUE_SIZE``."""
    return ENV_PREFIX + option.replace(".", NESTED).upper()


def flag_name(option: str) -> str:
    """``shadow.queue_size`` -> ``--shadow-queue-size``."""
    return "--" + option.replace(".", "-").replace("_", "-")


def every_option() -> Iterator[tuple[str, FieldInfo]]:
    """Each option's dotted name (``server.max_headers``) and field, in declaration order."""
    for name, info in GatewayOptions.model_fields.items():
        group = GROUPS.get(name)
        if group is None:
            yield name, info
        else:
            for inner, inner_info in group.model_fields.items():
                yield f"{name}.{inner}", inner_info


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"shadow.queue_size": 5}`` -> ``{"shadow": {"queue_size": 5}}``."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        group, dot, inner = key.partition(".")
        if dot:
            nested.setdefault(group, {})[inner] = value
        else:
            nested[key] = value
    return nested


def resolve(
    *,
    table: Mapping[str, Any],
    table_lines: Mapping[str, str],
    environment: Mapping[str, Any],
    flags: Mapping[str, Any],
) -> tuple[GatewayOptions, dict[str, str]]:
    """Merge the three sources (later wins) and validate; returns the options and, per
    option, where its value came from."""
    merged: dict[str, Any] = {}
    where: dict[str, str] = {}
    sources: list[tuple[Mapping[str, Any], Callable[[str], str]]] = [
        (table, lambda key: table_lines.get(key.partition(".")[0], "manifest")),
        (environment, env_name),
        (nest(flags), flag_name),
    ]
    for values, place in sources:
        for key, value in values.items():
            if key in GROUPS and isinstance(value, Mapping):
                merged[key] = {**merged.get(key, {}), **value}
                where.update({f"{key}.{inner}": place(f"{key}.{inner}") for inner in value})
            else:
                merged[key] = value
            where[key] = place(key)
    try:
        options = GatewayOptions.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError([_problem(error, where) for error in exc.errors()]) from exc
    return options, where


def _problem(error: Any, where: Mapping[str, str]) -> str:
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:
        return f"gateway options: {message}"
    option = ".".join(loc)
    place = where.get(".".join(loc[:2]), where.get(loc[0], "gateway options"))
    if error["type"] == "extra_forbidden":
        return f"{place}: unknown option {option!r}"
    return f"{place}: {option}: {message}"
