"""Real differences and noise, per JSON path: the shadow's comparisons against what
``gateway parity learn`` saw legacy do twice.

Diffy's filter: a path is a real difference only where legacy and v2 differ there clearly
more often than legacy differs from itself: by a relative and an absolute margin, once
enough legacy pairs have been compared to say. A path whose noise was never learned (or
learned from too few pairs) is shown as unjudged, never as noise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.records.tables import NoiseRun, ShadowComparison
from gateway.shadow.learn import STATUS_PATH, PathNoise

# Diffy's defaults: 20 % above the noise rate, and 3 points above it.
RELATIVE_MARGIN = 0.2
ABSOLUTE_MARGIN = 0.03
# Fewer legacy pairs than this say nothing about a path's noise.
MIN_PAIRS = 10
# The comparisons judged: the newest, so the figures follow v2 as it is fixed, and a long
# shadow does not make `gateway parity` read every row it ever stored.
EVIDENCE_WINDOW = 10_000
_STEP = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")
_WHOLE_BODY = "(body)"


@dataclass(frozen=True, slots=True)
class PathEvidence:
    path: str
    raw: int  # comparisons where legacy and v2 differed at the path
    comparisons: int
    noise: PathNoise | None  # where legacy differed from itself (at the path or above it)
    pairs: int  # legacy pairs compared by `gateway parity learn`

    @property
    def raw_rate(self) -> float:
        return self.raw / self.comparisons if self.comparisons else 0.0

    @property
    def noise_rate(self) -> float:
        return self.noise.count / self.pairs if self.noise is not None and self.pairs else 0.0

    @property
    def real(self) -> bool | None:
        """Whether legacy and v2 differ here beyond the noise; None: too few legacy pairs."""
        if self.pairs < MIN_PAIRS:
            return None
        excess = self.raw_rate - self.noise_rate
        relative = excess / self.noise_rate if self.noise_rate else float("inf")
        return excess >= ABSOLUTE_MARGIN and relative >= RELATIVE_MARGIN


def rule_path(deepdiff_path: str) -> str:
    """``root['articles'][3]['slug']`` as a rule writes it: ``articles[*].slug``."""
    path = ""
    for name, _index in _STEP.findall(deepdiff_path):
        path = (f"{path}.{name}" if path else name) if name else f"{path}[*]"
    return path or _WHOLE_BODY


def _raw_paths(diff: dict[str, Any] | None) -> set[str]:
    if not diff:
        return set()
    if "status" in diff:
        return {STATUS_PATH}
    return {rule_path(path) for changes in diff.values() for path in changes}


def learned_noise(session: Session, module: str) -> tuple[int, dict[str, PathNoise]]:
    """Every learning run of the module, together: pairs compared, and each path's noise."""
    pairs = 0
    paths: dict[str, PathNoise] = {}
    for run in session.scalars(select(NoiseRun).where(NoiseRun.module == module)):
        pairs += run.pairs
        for path, stored in run.paths.items():
            seen = PathNoise.read(stored)
            before = paths.get(path)
            paths[path] = seen if before is None else before.widened(seen)
    return pairs, paths


def _noise_at(path: str, noise: dict[str, PathNoise]) -> PathNoise | None:
    """The noise learned at the path or at the nearest path above it (a list in any order
    covers what differs inside it)."""
    while True:
        if path in noise:
            return noise[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return None
        path = path[:cut]


def path_evidence(
    session: Session, module: str, *, newest: int = EVIDENCE_WINDOW
) -> tuple[list[PathEvidence], dict[str, PathNoise]]:
    """Each path where legacy and v2 differed in the module's ``newest`` comparisons (errors
    aside), against its noise; and all noise learned."""
    window = (
        select(ShadowComparison.outcome, ShadowComparison.diff)
        .where(ShadowComparison.module == module, ShadowComparison.outcome != "error")
        .order_by(ShadowComparison.id.desc())
        .limit(newest)
    )
    comparisons = 0
    raw: dict[str, int] = {}
    for outcome, diff in session.execute(window):
        comparisons += 1
        if outcome == "mismatched":
            for path in _raw_paths(diff):
                raw[path] = raw.get(path, 0) + 1
    pairs, noise = learned_noise(session, module)
    found = [
        PathEvidence(path, count, comparisons, _noise_at(path, noise), pairs)
        for path, count in sorted(raw.items())
    ]
    return found, noise
