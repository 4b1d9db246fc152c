"""The shadow evidence per module, read back from the records: what ``gateway parity`` shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gateway.records.tables import ShadowComparison, ShadowDrop


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
