"""Waiting, with a deadline, for something another thread or process brings about."""

from __future__ import annotations

import reprlib
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.05,
    message: str = "the condition to hold",
) -> T:
    """Call ``condition`` until it returns a truthy value, and return that value.

    (A condition may return None for "not yet", and the value it returns is then typed
    without the None.)

    ``condition`` is called at least once, then every ``interval`` seconds; once ``timeout``
    seconds have passed without a truthy value, an AssertionError names what was waited for
    (``message``) and the last value seen. An exception raised by ``condition`` propagates at
    once: that is how a condition says the wait can no longer succeed.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"waited {timeout} s for {message}; last saw {reprlib.repr(value)}"
            )
        time.sleep(interval)
