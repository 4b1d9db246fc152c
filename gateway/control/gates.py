"""A module's promotion gates, evaluated on the shadow's paired evidence in its current state.

Every comparison pairs one request's answers: legacy's, which the client got, and v2's for
the same request at the same moment. Counted since the module's newest runtime change (the
start of its current state; all of its comparisons when it never changed at run time):

- **match rate**: the lower bound of the 95 % Wilson score interval, so that a few lucky
  samples never pass (3 of 3 matched is 0.44, not 1.0);
- **v2 errors**: v2's 5xx, exceptions and timeouts on requests legacy answered without a 5xx,
  so a request both sides fail does not count against v2;
- **latency**: the 95th percentile of each request's v2 / legacy time to its last byte;
- **time in state** since the newest change.

Below ``min_samples`` comparisons each evidence gate is *inconclusive*: no traffic is never
taken for good news.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config.gates import Gates
from gateway.records.tables import ShadowComparison

# The normal quantile of a two-sided 95 % interval.
Z_95 = 1.959963984540054
SERVER_ERROR = 500


class Outcome(StrEnum):
    passed = "pass"
    failed = "fail"
    inconclusive = "inconclusive"


@dataclass(frozen=True, slots=True)
class Verdict:
    gate: str
    outcome: Outcome
    value: str  # as measured, or why nothing could be
    threshold: str
    samples: int

    def line(self) -> str:
        return (
            f"{self.gate}: {self.outcome} (measured {self.value}, needs {self.threshold}, "
            f"{self.samples} samples)"
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    samples: int
    matched: int
    legacy_answered: int  # comparisons legacy answered without a 5xx
    v2_errors: int  # of those, the ones v2 failed
    ratios: tuple[float, ...]  # v2 / legacy seconds, where both were timed
    minutes_in_state: float | None  # None: no runtime change, so unknown


def wilson_lower_bound(successes: int, trials: int, z: float = Z_95) -> float:
    if trials == 0:
        return 0.0
    share = successes / trials
    centre = share + z * z / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials)


def percentile(values: tuple[float, ...], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of non-empty ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def gather(session: Session, module: str, since: datetime | None) -> Evidence:
    query = select(
        ShadowComparison.outcome,
        ShadowComparison.legacy_status,
        ShadowComparison.v2_status,
        ShadowComparison.legacy_seconds,
        ShadowComparison.v2_seconds,
    ).where(ShadowComparison.module == module)
    if since is not None:
        query = query.where(ShadowComparison.created_at >= since)
    samples = matched = legacy_answered = v2_errors = 0
    ratios = []
    for outcome, legacy_status, v2_status, legacy_seconds, v2_seconds in session.execute(query):
        samples += 1
        matched += outcome == "matched"
        if legacy_status < SERVER_ERROR:
            legacy_answered += 1
            v2_errors += outcome == "error" or (v2_status or 0) >= SERVER_ERROR
        if legacy_seconds and v2_seconds is not None:
            ratios.append(v2_seconds / legacy_seconds)
    minutes = None if since is None else (datetime.now(UTC) - since).total_seconds() / 60
    return Evidence(samples, matched, legacy_answered, v2_errors, tuple(ratios), minutes)


def evaluate(gates: Gates, evidence: Evidence) -> list[Verdict]:
    """Each gate's verdict on ``evidence``, in the order ``gateway gates`` shows them."""
    n = evidence.samples
    enough = n >= gates.min_samples
    verdicts = [
        Verdict(
            "samples",
            Outcome.passed if enough else Outcome.inconclusive,
            str(n),
            f">= {gates.min_samples}",
            n,
        )
    ]

    def judged(gate: str, ok: bool, value: str, threshold: str, samples: int) -> Verdict:
        outcome = Outcome.inconclusive if not enough else Outcome((ok and "pass") or "fail")
        return Verdict(gate, outcome, value, threshold, samples)

    bound = wilson_lower_bound(evidence.matched, n)
    verdicts.append(
        judged(
            "match rate",
            bound >= gates.min_match_rate,
            f"{bound:.4f} ({evidence.matched}/{n} matched, 95% Wilson lower bound)",
            f">= {gates.min_match_rate:g}",
            n,
        )
    )
    answered = evidence.legacy_answered
    rate = evidence.v2_errors / answered if answered else 0.0
    verdicts.append(
        judged(
            "v2 errors",
            answered > 0 and rate <= gates.max_v2_error_rate,
            f"{rate:.4f} ({evidence.v2_errors} of {answered} legacy answered)",
            f"<= {gates.max_v2_error_rate:g}",
            answered,
        )
    )
    if gates.max_latency_ratio is not None:
        ratios = evidence.ratios
        p95 = percentile(ratios, 0.95) if ratios else math.inf
        verdicts.append(
            judged(
                "latency",
                p95 <= gates.max_latency_ratio,
                f"p95 v2/legacy {p95:.2f}" if ratios else "no timed pairs",
                f"<= {gates.max_latency_ratio:g}",
                len(ratios),
            )
        )
    verdicts.append(_time_in_state(gates, evidence))
    return verdicts


def _time_in_state(gates: Gates, evidence: Evidence) -> Verdict:
    minutes, needed = evidence.minutes_in_state, gates.min_minutes_in_state
    if needed == 0:
        value, outcome = "not required", Outcome.passed
    elif minutes is None:
        value, outcome = "unknown (no runtime change yet)", Outcome.inconclusive
    else:
        value = f"{minutes:.1f} min"
        outcome = Outcome.passed if minutes >= needed else Outcome.failed
    return Verdict("time in state", outcome, value, f">= {needed:g} min", evidence.samples)
