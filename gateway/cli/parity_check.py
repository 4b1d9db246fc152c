"""``gateway parity check MODULE``: both sides asked the same generated requests, before any
traffic (:mod:`gateway.shadow.generated`)."""

from __future__ import annotations

import json

import click

from gateway.cli.common import (
    ConfigArgs,
    config_options,
    load_everything,
    module_or_fail,
    read_config,
)
from gateway.cli.parity import header_option, parity_command, request_headers
from gateway.shadow.generated import Outcome, check_module


def _line(outcome: Outcome) -> None:
    if outcome.skipped is not None:
        click.echo(f"  {outcome.operation}: {outcome.skipped}")
    elif outcome.verdict is None:
        count = f"{outcome.sent} request" + ("" if outcome.sent == 1 else "s")
        click.echo(f"  {outcome.operation}: {count}, both sides alike")
    else:
        click.echo(f"  {outcome.operation}: DIFFERS after {outcome.sent} requests")
        click.echo(f"      smallest: {outcome.request}")
        click.echo(f"      {outcome.verdict.signature}: {json.dumps(outcome.verdict.diff)[:500]}")


@parity_command.command("check")
@config_options
@click.argument("module")
@click.option(
    "--examples",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Requests generated for each operation (before shrinking a difference).",
)
@click.option(
    "--seed",
    "random_seed",
    type=int,
    default=None,
    help="Generate the same requests as another run with this seed (default: new ones).",
)
@header_option
def check_command(
    config_args: ConfigArgs,
    module: str,
    examples: int,
    random_seed: int | None,
    headers: tuple[str, ...],
) -> None:
    """Send requests generated from v2's OpenAPI for MODULE's operations to both sides, in
    this process, and compare the answers (and, for a write, the rows written) as the shadow
    does. Reads go first; writes reach the objects the reads answered with, and each side
    answers them in a transaction that is rolled back. Exits 1 on a difference. Run it
    against a copy of the data, or an empty database."""
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "parity check generates requests with Schemathesis: pip install "
            "'flask-fastapi-gateway[parity]'"
        ) from None
    config = read_config(config_args)
    module_or_fail(config, module)
    sides = load_everything(config)
    if sides.v2 is None:
        raise click.ClickException("parity check needs a v2 app (the v2 option)")
    click.echo(f"{module}: {examples} generated requests an operation, both sides")
    try:
        outcomes = check_module(
            config,
            sides,
            config.manifest.module(module),
            examples=examples,
            headers=request_headers(headers),
            report=_line,
            random_seed=random_seed,
        )
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    differing = [outcome for outcome in outcomes if outcome.verdict is not None]
    if not outcomes:
        raise click.ClickException(f"v2's OpenAPI has no operation of module {module}")
    if differing:
        raise SystemExit(1)
