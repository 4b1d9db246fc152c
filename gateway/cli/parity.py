"""``gateway parity``: the shadow's evidence, real differences apart from noise; and
``gateway parity learn MODULE``, which learns the noise from legacy itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
import httpx
from sqlalchemy import select

from gateway.cli.common import (
    ConfigArgs,
    config_options,
    load_everything,
    module_or_fail,
    open_records,
    read_config,
)
from gateway.config.configuration import Config
from gateway.config.manifest import Module
from gateway.mounts.sides import Sides
from gateway.records.parity import ModuleParity, parity
from gateway.records.tables import NoiseRun, ShadowComparison
from gateway.shadow.capture import SAFE_METHODS
from gateway.shadow.evidence import PathEvidence, path_evidence
from gateway.shadow.export import exported_tests
from gateway.shadow.learn import PathNoise, learned

# Never sent again: the transport sets them, or they describe the first connection.
_NOT_REPLAYED = frozenset({"host", "content-length", "connection", "transfer-encoding"})
# How long one replayed request may take before learning gives up on it.
REPLAY_SECONDS = 30.0


@click.group("parity", invoke_without_command=True)
@config_options
@click.option("--top", default=5, show_default=True, type=click.IntRange(min=1))
@click.pass_context
def parity_command(ctx: click.Context, config_args: ConfigArgs, top: int) -> None:
    """Shadow evidence per module: comparisons, match rate, drops, frequent mismatches, and
    each JSON path's real differences apart from its noise."""
    if ctx.invoked_subcommand is not None:
        return
    config = read_config(config_args)
    modules = [module.name for module in config.manifest.modules]
    with open_records(config, load_everything(config)) as store, store.session() as session:
        report = parity(session, modules, top=top)
        evidence = {name: path_evidence(session, name) for name in modules}
    for entry in report:
        module = config.manifest.module(entry.module)
        _echo_module(entry, str(module.state))
        paths, noise = evidence[entry.module]
        _echo_paths(module, paths, noise)


def _echo_module(entry: ModuleParity, state: str) -> None:
    rate = "-" if entry.match_rate is None else f"{entry.match_rate:.1%}"
    click.echo(
        f"{entry.module} ({state}): {entry.comparisons} comparisons, {rate} matched, "
        f"{entry.errors} errors, {entry.dropped} dropped"
    )
    for mismatch in entry.mismatches:
        request = mismatch.example["request"]
        query = f"?{request['query']}" if request.get("query") else ""
        click.echo(f"  {mismatch.count} x {mismatch.signature}")
        click.echo(f"      e.g. {request['method']} {request['path']}{query}")
        detail = mismatch.example["error"] or json.dumps(mismatch.example["diff"])
        click.echo(f"      {detail[:500]}")


def _rate(count: int, total: int) -> str:
    return f"{count} of {total} ({count / total:.0%})" if total else f"{count} of 0"


def _echo_paths(module: Module, paths: list[PathEvidence], noise: dict[str, PathNoise]) -> None:
    groups = {"real differences": True, "noise (legacy differs from itself as often)": False}
    for title, real in groups.items():
        chosen = [p for p in paths if p.real is real]
        if chosen:
            click.echo(f"  {title}:")
        for path in chosen:
            click.echo(
                f"    {path.path}: v2 {_rate(path.raw, path.comparisons)}, "
                f"legacy twice {_rate(path.noise.count if path.noise else 0, path.pairs)}"
            )
    unjudged = [p.path for p in paths if p.real is None]
    if unjudged:
        click.echo(
            f"  not judged, too few legacy pairs (`gateway parity learn {module.name}`): "
            + ", ".join(unjudged)
        )
    _echo_proposals(module, noise)


def _echo_proposals(module: Module, noise: dict[str, PathNoise]) -> None:
    written = {rule.path for rule in module.noise} | set(module.ignore)
    rules = [
        rule
        for path, seen in sorted(noise.items())
        if path not in written and (rule := seen.proposed(path)) is not None
    ]
    uncovered = sorted(p for p, seen in noise.items() if seen.kind is None and p not in written)
    if rules:
        click.echo(f"  learned, to paste under [[module]] name = {module.name!r} (not applied):")
        click.echo("    [module.noise]")
        for rule in rules:
            click.echo(f"    {rule.line()}")
    if uncovered:
        click.echo(
            f"  varying with no kind to cover it (an ignore rule would): {', '.join(uncovered)}"
        )


# --header 'Name: value', repeatable: the shadow never stores credentials, so a module
# behind a login is learned or checked with a test account's.
header_option = click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="Sent with every request (repeatable), e.g. a test account's 'Authorization: ...'.",
)


@parity_command.command("learn")
@config_options
@click.argument("module")
@click.option(
    "--requests",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many of the module's shadowed requests to send to legacy twice.",
)
@header_option
def learn_command(
    config_args: ConfigArgs, module: str, requests: int, headers: tuple[str, ...]
) -> None:
    """Send MODULE's recent shadowed requests (GET and HEAD only) to legacy twice, and keep
    where the two answers differ: noise, by kind."""
    extra = request_headers(headers)
    config = read_config(config_args)
    module_or_fail(config, module)
    sides = load_everything(config)
    with open_records(config, sides) as store:
        with store.session() as session:
            chosen = _recent_requests(session, module, requests)
        if not chosen:
            raise click.ClickException(
                f"no shadowed GET or HEAD of module {module} recorded yet: put it in shadow, "
                "let it see traffic, then learn"
            )
        pairs, paths = learned(asyncio.run(_twice(config, sides, chosen, extra)))
        with store.session() as session, session.begin():
            stored = {path: noise.stored() for path, noise in paths.items()}
            session.add(NoiseRun(module=module, pairs=pairs, paths=stored))
    click.echo(f"{module}: {pairs} requests answered twice by legacy")
    for path, noise in sorted(paths.items()):
        kind = noise.kind or "no kind covers it"
        click.echo(f"  {path}: differed in {_rate(noise.count, pairs)}, {kind}")
    if not paths:
        click.echo("  every pair answered the same: no noise")


def request_headers(headers: tuple[str, ...]) -> dict[str, str]:
    """``--header 'Name: value'`` flags, as headers to send."""
    extra = {}
    for header in headers:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            raise click.BadParameter(f"{header!r} is not 'Name: value'", param_hint="--header")
        extra[name.strip().lower()] = value.strip()
    return extra


def _recent_requests(session: Any, module: str, limit: int) -> list[dict[str, Any]]:
    """The module's most recent distinct safe requests, newest first."""
    query = (
        select(ShadowComparison.request)
        .where(ShadowComparison.module == module)
        .order_by(ShadowComparison.id.desc())
    )
    chosen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for request in session.scalars(query.limit(limit * 20)):
        key = (request["method"], request["path"], request.get("query", ""))
        if request["method"] in SAFE_METHODS and key not in chosen:
            chosen[key] = request
            if len(chosen) == limit:
                break
    return list(chosen.values())


async def _twice(
    config: Config, sides: Sides, requests: list[dict[str, Any]], extra: dict[str, str]
) -> list[tuple[int, Any, int, Any]]:
    """Each request answered twice by the legacy app, in this process, one after the other."""
    legacy = sides.legacy
    transport = httpx.ASGITransport(app=legacy.asgi, root_path=config.options.legacy_base)
    pairs = []
    async with (
        legacy.running(),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as http,
    ):
        for request in requests:
            kept = {k: v for k, v in request["headers"].items() if k not in _NOT_REPLAYED}
            headers = {**kept, **extra}
            url = request["path"] + (f"?{request['query']}" if request.get("query") else "")
            answers = []
            for _ in range(2):
                async with asyncio.timeout(REPLAY_SECONDS):
                    answers.append(await http.request(request["method"], url, headers=headers))
            first, second = answers
            pairs.append((first.status_code, _body(first), second.status_code, _body(second)))
    return pairs


def _body(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text


@parity_command.command("export")
@config_options
@click.argument("module")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The pytest file to write (tests/test_parity_MODULE.py).",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
def export_command(config_args: ConfigArgs, module: str, output: Path, limit: int) -> None:
    """Write MODULE's stored mismatches as a pytest file: each test sends the recorded request
    to v2 and expects legacy's answer. Credentials and personal data are left out."""
    config = read_config(config_args)
    module_or_fail(config, module)
    if config.manifest.directory is None:
        raise click.UsageError("export needs the manifest as a file (--manifest)")
    manifest = str(Path(config.manifest.source).resolve())
    with open_records(config, load_everything(config)) as store, store.session() as session:
        chosen = _recent_mismatches(session, module, limit)
        if not chosen:
            raise click.ClickException(
                f"no mismatch of module {module} is stored with legacy's answer yet"
            )
        text = exported_tests(manifest, module, chosen)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"{output}: {len(chosen)} tests of module {module}")


def _recent_mismatches(session: Any, module: str, limit: int) -> list[ShadowComparison]:
    """The newest stored mismatch of each distinct read, newest first. A shadowed write is
    not exported: its body is not stored (it may hold a password), and a test replaying it
    would write to the database v2 is built on."""
    query = (
        select(ShadowComparison)
        .where(
            ShadowComparison.module == module,
            ShadowComparison.outcome == "mismatched",
            ShadowComparison.legacy_body.is_not(None),
        )
        .order_by(ShadowComparison.id.desc())
    )
    chosen: dict[tuple[str, str, str], ShadowComparison] = {}
    for row in session.scalars(query.limit(limit * 20)):
        request = row.request
        key = (request["method"], request["path"], request.get("query", ""))
        if request["method"] in SAFE_METHODS and key not in chosen:
            chosen[key] = row
            if len(chosen) == limit:
                break
    return list(chosen.values())
