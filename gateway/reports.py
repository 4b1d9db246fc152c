"""What ``gateway routes`` and ``gateway parity`` print, computed as plain rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from flask import Flask
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.legacy.openapi import api_rules, documented_methods, openapi_path, sample_path
from gateway.manifest import Module, State
from gateway.records import ShadowComparison, ShadowDrop


@dataclass(frozen=True, slots=True)
class RouteRow:
    methods: str
    path: str
    module: str
    state: str
    served_by: str


def served_by(module: Module | None, config: Config, rule: str) -> str:
    if module is None or module.state is State.legacy:
        return "legacy"
    v2_path = config.options.v2_prefix + openapi_path(module.v2_path(rule))
    if module.state is State.shadow:
        return f"legacy (replayed to v2 {v2_path} at {module.shadow_sample_rate:.0%})"
    if module.state is State.canary:
        return f"v2 {v2_path} for {module.canary_percent}% of users, legacy for the rest"
    return f"v2 {v2_path}"


def legacy_routes(legacy: Flask, config: Config) -> list[RouteRow]:
    rows = []
    prefix, manifest = config.options.legacy_prefix, config.manifest
    rules = sorted(api_rules(legacy), key=lambda r: (r.rule, sorted(r.methods or [])))
    for rule in rules:
        module = manifest.module_for(sample_path(rule.rule))
        rows.append(
            RouteRow(
                methods=",".join(documented_methods(rule)),
                path=prefix + openapi_path(rule.rule),
                module=module.name if module else "-",
                state=str(module.state) if module else "legacy",
                served_by=served_by(module, config, rule.rule),
            )
        )
    return rows


def v2_operations(v2: Any, prefix: str) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation v2 documents, under the v2 prefix."""
    if isinstance(v2, APIRouter):
        app = FastAPI()
        app.include_router(v2)
        v2 = app
    if not isinstance(v2, FastAPI):
        return []
    paths = v2.openapi().get("paths", {})
    return sorted(
        (method.upper(), prefix + path) for path, item in paths.items() for method in item
    )


@dataclass(frozen=True, slots=True)
class Mismatch:
    signature: str
    count: int
    example: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModuleParity:
    module: str
    comparisons: int
    matched: int
    errors: int
    dropped: int
    mismatches: list[Mismatch]

    @property
    def match_rate(self) -> float | None:
        return self.matched / self.comparisons if self.comparisons else None


def parity(session: Session, modules: Iterable[str], *, top: int = 5) -> list[ModuleParity]:
    def tally(outcome: str) -> Any:
        return func.sum(case((ShadowComparison.outcome == outcome, 1), else_=0))

    totals = {
        row.module: row
        for row in session.execute(
            select(
                ShadowComparison.module,
                func.count().label("comparisons"),
                tally("matched").label("matched"),
                tally("error").label("errors"),
            ).group_by(ShadowComparison.module)
        )
    }
    drops = {drop.module: drop.dropped for drop in session.scalars(select(ShadowDrop))}
    report = []
    for name in modules:
        row = totals.get(name)
        report.append(
            ModuleParity(
                module=name,
                comparisons=row.comparisons if row else 0,
                matched=int(row.matched or 0) if row else 0,
                errors=int(row.errors or 0) if row else 0,
                dropped=drops.get(name, 0),
                mismatches=_top_mismatches(session, name, top),
            )
        )
    return report


def _top_mismatches(session: Session, module: str, top: int) -> list[Mismatch]:
    label = func.coalesce(ShadowComparison.signature, ShadowComparison.error)
    groups = session.execute(
        select(label.label("signature"), func.count().label("n"), func.max(ShadowComparison.id))
        .where(ShadowComparison.module == module, ShadowComparison.outcome != "matched")
        .group_by(label)
        .order_by(func.count().desc(), label)
        .limit(top)
    ).all()
    found = []
    for signature, count, example_id in groups:
        example = session.get(ShadowComparison, example_id)
        assert example is not None
        found.append(
            Mismatch(
                signature=signature or "?",
                count=count,
                example={"request": example.request, "diff": example.diff, "error": example.error},
            )
        )
    return found
