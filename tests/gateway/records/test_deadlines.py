"""``within`` blocks: what is left of one bounds every wait inside it, and an inner block never
extends an outer one. (The waits themselves, on a frozen PostgreSQL, are tested through the
whole stack in tests/contract/test_database_frozen.py.)"""

from __future__ import annotations

from gateway.records.deadlines import left, within

# Far longer than any test takes, so what is left of a block stays above the shorter one.
LONG = 3600.0
SHORT = 60.0


def _left(seconds: float | None = None) -> float:
    remaining = left(seconds)
    assert remaining is not None
    return remaining


def test_outside_any_block_a_wait_keeps_its_own_bound() -> None:
    assert left(None) is None
    assert left(SHORT) == SHORT


def test_inside_a_block_a_wait_ends_with_the_block() -> None:
    with within(SHORT):
        assert _left() <= SHORT
        assert _left(LONG) <= SHORT
    assert left(None) is None


def test_an_inner_block_cannot_outlast_its_outer_one() -> None:
    with within(SHORT), within(LONG):
        assert _left() <= SHORT


def test_a_spent_block_leaves_nothing_never_less() -> None:
    with within(0.0):
        assert _left(SHORT) == 0.0
