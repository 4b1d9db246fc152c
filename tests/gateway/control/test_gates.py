"""The gates' arithmetic: Wilson's bound, the error count that spares v2 what both sides
fail, the percentile, and inconclusive below the minimum samples."""

from __future__ import annotations

import pytest

from gateway.config.gates import Gates
from gateway.control.gates import Evidence, Outcome, evaluate, percentile, wilson_lower_bound


def _evidence(samples: int, matched: int, **rest: object) -> Evidence:
    given = {"legacy_answered": samples, "v2_errors": 0, "ratios": (), "minutes_in_state": 60.0}
    return Evidence(samples, matched, **{**given, **rest})  # type: ignore[arg-type]


def test_three_of_three_matched_is_not_a_certainty() -> None:
    assert wilson_lower_bound(3, 3) == pytest.approx(0.4385, abs=1e-4)
    assert wilson_lower_bound(990, 1000) == pytest.approx(0.9817, abs=1e-4)
    assert wilson_lower_bound(0, 0) == 0.0


def test_percentile_is_the_nearest_rank() -> None:
    values = tuple(float(n) for n in range(1, 101))
    assert percentile(values, 0.95) == 95.0
    assert percentile((7.0,), 0.95) == 7.0


def test_below_the_minimum_every_evidence_gate_is_inconclusive_never_passed() -> None:
    verdicts = evaluate(Gates(min_samples=100, max_latency_ratio=2.0), _evidence(3, 3))

    outcomes = {verdict.gate: verdict.outcome for verdict in verdicts}
    assert outcomes == {
        "samples": Outcome.inconclusive,
        "match rate": Outcome.inconclusive,
        "v2 errors": Outcome.inconclusive,
        "latency": Outcome.inconclusive,
        "time in state": Outcome.passed,
    }
    assert verdicts[0].line() == "samples: inconclusive (measured 3, needs >= 100, 3 samples)"


def test_each_gate_fails_on_its_own_evidence() -> None:
    gates = Gates(min_samples=10, max_latency_ratio=1.5, min_minutes_in_state=30)
    evidence = _evidence(
        200, 150, v2_errors=9, ratios=(1.0,) * 180 + (3.0,) * 20, minutes_in_state=5.0
    )

    failed = {v.gate: v for v in evaluate(gates, evidence) if v.outcome is Outcome.failed}

    assert set(failed) == {"match rate", "v2 errors", "latency", "time in state"}
    assert failed["v2 errors"].value == "0.0450 (9 of 200 legacy answered)"
    assert failed["latency"].value == "p95 v2/legacy 3.00"


def test_good_evidence_passes_every_gate() -> None:
    gates = Gates(min_samples=100, max_latency_ratio=1.5)
    evidence = _evidence(2000, 2000, ratios=(1.1,) * 2000)

    assert all(v.outcome is Outcome.passed for v in evaluate(gates, evidence))
