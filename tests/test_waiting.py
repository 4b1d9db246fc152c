"""The suite's one way of waiting: a condition polled until it holds, never past a deadline."""

from __future__ import annotations

import pytest

from tests.waiting import wait_until


def test_the_first_truthy_value_is_returned() -> None:
    answers = iter([None, 0, [], ["row"], ["later"]])

    assert wait_until(lambda: next(answers), timeout=30, interval=0) == ["row"]
    assert next(answers) == ["later"]  # asked no more once it held


def test_past_the_deadline_it_fails_naming_what_it_waited_for() -> None:
    calls = []

    def never() -> list[str]:
        calls.append(1)
        return []

    with pytest.raises(AssertionError, match=r"waited 0 s for the rows to arrive; last saw \[\]"):
        wait_until(never, timeout=0, message="the rows to arrive")
    assert calls == [1]  # asked once even with no time at all


def test_an_error_in_the_condition_ends_the_wait_at_once() -> None:
    def died() -> bool:
        raise RuntimeError("the server died")

    with pytest.raises(RuntimeError, match="the server died"):
        wait_until(died, timeout=30)
