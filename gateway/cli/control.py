"""``gateway set``, ``promote``, ``rollback`` and ``gates``: changing the runtime state.

Each works on the records database directly (no token, no running gateway needed). A change
is checked as start-up checks the manifest (a canary needs a percent, a shadow a sample rate,
v2 every route the module's clients use) and becomes one versioned row; every worker on that
database serves it within two seconds (:mod:`gateway.control.live`).
"""

from __future__ import annotations

import dataclasses
import functools
import getpass
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gateway.cli.common import (
    ConfigArgs,
    config_options,
    load_everything,
    module_or_fail,
    open_records,
    read_config,
)
from gateway.config.configuration import Config
from gateway.config.gates import Gates
from gateway.config.manifest import State
from gateway.control.changes import (
    add_change,
    current_changes,
    newest_change,
    settings_of,
    take_version,
)
from gateway.control.gates import Evidence, Outcome, evaluate, gather
from gateway.control.settings import Setting, applied, neighbour
from gateway.mounts.coverage import coverage_problems
from gateway.mounts.sides import Sides

STATES = click.Choice([str(state) for state in State])
# Promotions out of these states are gated: the shadow's evidence is collected in them.
GATED = frozenset({State.shadow, State.canary})


def _change(
    config_args: ConfigArgs,
    name: str,
    decide: Callable[[Setting], Setting],
    *,
    reason: str,
    by: str | None,
    gated: bool = False,
    force: bool = False,
) -> None:
    """Read the module's setting, ``decide`` the new one, check it (and its gates when
    ``gated``), and record it."""
    config = read_config(config_args)
    module_or_fail(config, name)
    sides = load_everything(config)
    module = config.manifest.module(name)
    declared = Setting.of(module)
    with open_records(config, sides) as store, store.session() as session, session.begin():
        version = take_version(session)
        newest = newest_change(session, name)
        previous = declared if newest is None else Setting.read(newest.new)
        new = decide(previous)
        others = settings_of(current_changes(session)[1])
        _refuse_unservable(config, sides, others, name, new)
        kind = "manual"
        if gated and previous.state in GATED:
            since = None if newest is None else newest.created_at
            kind = _through_gates(module.gates, gather(session, name, since), force=force)
        add_change(
            session,
            version,
            module=name,
            previous=previous,
            new=new,
            declared=declared,
            kind=kind,
            by=by or getpass.getuser(),
            reason=reason,
        )
    click.echo(f"{name}: {previous.describe()} -> {new.describe()} (version {version}, {kind})")


def _through_gates(gates: Gates, evidence: Evidence, *, force: bool) -> str:
    """The change's kind once the gates let it through; refused (exit 1) otherwise."""
    verdicts = evaluate(gates, evidence)
    held = [verdict for verdict in verdicts if verdict.outcome is not Outcome.passed]
    if not held:
        return "manual"
    lines = "\n".join(f"  {verdict.line()}" for verdict in held)
    if gates.dry_run:
        click.echo(f"gates not passed (dry_run: not enforced):\n{lines}")
        return "manual"
    if force:
        click.echo(f"gates not passed, promoted by --force:\n{lines}")
        return "forced"
    raise click.ClickException(f"promotion refused; gates not passed:\n{lines}")


def _refuse_unservable(
    config: Config, sides: Sides, settings: dict[str, Setting], name: str, new: Setting
) -> None:
    if problem := new.problem():
        raise click.UsageError(f"{name}: {problem}")
    if new.state is not State.legacy and config.options.v2 is None:
        raise click.UsageError(f"{name}: state {new.state} needs a v2 app (set v2)")
    snapshot = applied(config.manifest, {**settings, name: new}, 0)
    candidate = dataclasses.replace(config, manifest=snapshot.manifest)
    if problems := coverage_problems(sides, candidate):
        raise click.UsageError("\n".join(problems))


def _with(setting: Setting, state: State, percent: int | None, sample: float | None) -> Setting:
    return Setting(
        state,
        setting.canary_percent if percent is None else percent,
        setting.shadow_sample_rate if sample is None else sample,
    )


_OPTIONS = (
    click.option("--percent", type=click.IntRange(0, 100), help="The canary percent."),
    click.option("--sample", type=click.FloatRange(0, 1), help="The shadow sample rate."),
    click.option("--reason", required=True, help="Why: kept in the history."),
    click.option("--by", default=None, help="Who (default: the OS user)."),
)
F = TypeVar("F", bound=Callable[..., Any])


def _change_options(command: F) -> F:
    """What every change takes: --percent, --sample, --reason and --by."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


@click.command("set")
@config_options
@click.argument("module")
@click.argument("state", type=STATES)
@_change_options
def set_command(
    config_args: ConfigArgs,
    module: str,
    state: str,
    percent: int | None,
    sample: float | None,
    reason: str,
    by: str | None,
) -> None:
    """Put MODULE in STATE now, on every worker, without a restart."""
    decide = functools.partial(_with, state=State(state), percent=percent, sample=sample)
    _change(config_args, module, decide, reason=reason, by=by)


def _step(step: int, percent: int | None, sample: float | None) -> Callable[[Setting], Setting]:
    def decide(setting: Setting) -> Setting:
        state = neighbour(setting.state, step)
        if state is None:
            where = "last" if step > 0 else "first"
            raise click.UsageError(f"already in {setting.state}, the {where} state")
        return _with(setting, state, percent, sample)

    return decide


@click.command("promote")
@config_options
@click.argument("module")
@_change_options
@click.option("--force", is_flag=True, help="Promote past failing gates (recorded as forced).")
def promote(
    config_args: ConfigArgs,
    module: str,
    percent: int | None,
    sample: float | None,
    reason: str,
    by: str | None,
    force: bool,
) -> None:
    """Move MODULE to its next state (legacy, shadow, canary, v2) once its gates pass."""
    decide = _step(1, percent, sample)
    _change(config_args, module, decide, reason=reason, by=by, gated=True, force=force)


@click.command("gates")
@config_options
@click.argument("module")
def gates_command(config_args: ConfigArgs, module: str) -> None:
    """Evaluate MODULE's promotion gates on its evidence now, without acting."""
    config = read_config(config_args)
    module_or_fail(config, module)
    sides = load_everything(config)
    gates = config.manifest.module(module).gates
    with open_records(config, sides) as store, store.session() as session:
        newest = newest_change(session, module)
        evidence = gather(session, module, None if newest is None else newest.created_at)
    for verdict in evaluate(gates, evidence):
        click.echo(verdict.line())


@click.command("rollback")
@config_options
@click.argument("module")
@_change_options
def rollback(
    config_args: ConfigArgs,
    module: str,
    percent: int | None,
    sample: float | None,
    reason: str,
    by: str | None,
) -> None:
    """Move MODULE back to its previous state: v2, canary, shadow, legacy."""
    _change(config_args, module, _step(-1, percent, sample), reason=reason, by=by)
