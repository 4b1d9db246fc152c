"""Bounded legacy concurrency: a few requests run in the legacy app, a few wait with a
deadline, the rest are refused at once; v2 answers throughout."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import TYPE_CHECKING

import httpx
import pytest

from gateway.mounts.legacy.admission import Admission, Overloaded
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.gateways import conduit_gateway
from tests.serving import running_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# Every wait in these tests is bounded: a broken gate fails the test, never hangs it.
DEADLINE_SECONDS = 30


class HeldApp:
    """A WSGI app whose /held requests wait for ``release`` (after saying they entered)."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/held":
            self.entered.release()
            if not self.release.wait(DEADLINE_SECONDS):
                raise RuntimeError("the test never released the held request")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done\n"]


@contextmanager
def gateway(
    settings: Settings, database: Database, records: RecordStore, app: HeldApp, **options: object
) -> Iterator[str]:
    served = conduit_gateway(settings, database, records, legacy=app, **options)
    try:
        with running_server(served) as url:
            yield url
    finally:
        app.release.set()


def _held(pool: ThreadPoolExecutor, url: str, app: HeldApp) -> Future[httpx.Response]:
    """A /held request, returned once the legacy app has it on a thread."""
    future = pool.submit(httpx.get, f"{url}/legacy/held", timeout=DEADLINE_SECONDS)
    assert app.entered.acquire(timeout=DEADLINE_SECONDS), "the held request never arrived"
    return future


def test_past_the_threads_and_the_queue_a_request_is_refused_at_once(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = HeldApp()
    with (
        gateway(settings, database, records, app, legacy_threads=1, legacy_queue=0) as url,
        ThreadPoolExecutor(2) as pool,
    ):
        held = _held(pool, url, app)
        refused = httpx.get(f"{url}/legacy/other", timeout=DEADLINE_SECONDS)
        v2 = httpx.get(f"{url}/v2/api/tags", timeout=DEADLINE_SECONDS)
        app.release.set()
        finished = held.result(timeout=DEADLINE_SECONDS)
        after = httpx.get(f"{url}/legacy/other", timeout=DEADLINE_SECONDS)

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    # In the shape the manifest configures for the gateway's own answers (Conduit's).
    assert refused.json() == {"errors": {"server": ["service unavailable"]}}
    assert v2.status_code == 200  # v2 does not share the legacy app's threads
    assert (finished.status_code, finished.text) == (200, "done\n")
    assert (after.status_code, after.text) == (200, "done\n")


def test_a_queued_request_runs_when_a_thread_frees_up(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = HeldApp()
    with (
        gateway(settings, database, records, app, legacy_threads=1, legacy_queue=1) as url,
        ThreadPoolExecutor(2) as pool,
    ):
        held = _held(pool, url, app)
        queued = pool.submit(httpx.get, f"{url}/legacy/other", timeout=DEADLINE_SECONDS)
        app.release.set()
        responses = [held.result(DEADLINE_SECONDS), queued.result(DEADLINE_SECONDS)]

    assert [(r.status_code, r.text) for r in responses] == [(200, "done\n")] * 2


def test_a_queued_request_waits_no_longer_than_its_deadline(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = HeldApp()
    options = {
        "legacy_threads": 1,
        "legacy_queue": 1,
        "legacy_queue_seconds": 0.2,
        "errors": "problem",  # RFC 9457, which carries the gateway's detail
    }
    with gateway(settings, database, records, app, **options) as url, ThreadPoolExecutor(2) as pool:
        held = _held(pool, url, app)
        # The thread stays held for as long as this request takes: it can only end by the
        # queue's deadline.
        waited = httpx.get(f"{url}/legacy/other", timeout=DEADLINE_SECONDS)
        app.release.set()
        finished = held.result(timeout=DEADLINE_SECONDS)

    assert waited.status_code == 503
    assert waited.headers["content-type"] == "application/problem+json"
    assert waited.json()["detail"] == (
        "the legacy app is at capacity (no turn in the legacy app within 0.2 s)"
    )
    assert finished.status_code == 200


# The wait race, driven step by step on one event loop: a turn handed to a waiter at the
# moment its wait ends (timed out or cancelled) must reach the next waiter, never be lost.

# Taken before any test records the timeouts Admission makes; bounds these tests' own waits.
BOUNDED = asyncio.timeout


@pytest.fixture
def timeouts(monkeypatch: pytest.MonkeyPatch) -> list[asyncio.Timeout]:
    """Every asyncio.timeout made while the test runs (Admission's waits), in order."""
    made: list[asyncio.Timeout] = []

    def recording(delay: float | None) -> asyncio.Timeout:
        made.append(BOUNDED(delay))
        return made[-1]

    monkeypatch.setattr(asyncio, "timeout", recording)
    return made


class Waiter:
    """A request asking ``admission`` for a turn; once in, it stays until ``leave`` is set."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission
        self.inside = asyncio.Event()
        self.leave = asyncio.Event()
        self.task = asyncio.create_task(self._request())

    async def _request(self) -> None:
        async with self.admission.turn():
            self.inside.set()
            await self.leave.wait()


async def _one_loop_pass() -> None:
    """Let every task already scheduled run one step (a loop iteration, not a timed wait)."""
    await asyncio.sleep(0)


async def _two_waiting(
    timeouts: list[asyncio.Timeout],
) -> tuple[Admission, AbstractAsyncContextManager[None], Waiter, Waiter]:
    """A limit of one, taken; two requests waiting for it, each under a timeout of its own."""
    admission = Admission(ceiling=1, queue=2, wait_seconds=60, limit=1)
    holding = admission.turn()
    await holding.__aenter__()
    second, third = Waiter(admission), Waiter(admission)
    await _one_loop_pass()
    assert (admission.active, admission.waiting, len(timeouts)) == (1, 2, 2)
    return admission, holding, second, third


async def _the_third_gets_the_turn(admission: Admission, third: Waiter) -> None:
    """Once the second has given up, the third is in at once (a lost turn would leave it
    waiting its whole 60 s), and the count of requests inside stays right."""
    await _one_loop_pass()
    assert third.inside.is_set(), "the turn was lost: the next waiter is still waiting"
    assert (admission.active, admission.waiting) == (1, 0)
    third.leave.set()
    await third.task
    assert admission.active == 0


def test_a_turn_handed_over_as_the_wait_times_out_goes_to_the_next_waiter(
    timeouts: list[asyncio.Timeout],
) -> None:
    async def scenario() -> None:
        admission, holding, second, third = await _two_waiting(timeouts)
        second_wait = timeouts[0]

        # In one step, with no loop pass between: the second's deadline arrives (its expiry
        # is queued to run first), then the turn is handed to it.
        second_wait.reschedule(asyncio.get_running_loop().time())
        await holding.__aexit__(None, None, None)
        assert (admission.active, admission.waiting) == (1, 1)  # the turn is the second's

        async with BOUNDED(DEADLINE_SECONDS):
            with pytest.raises(Overloaded, match="no turn in the legacy app within 60 s"):
                await second.task
        assert second_wait.expired()
        assert not second.inside.is_set()
        await _the_third_gets_the_turn(admission, third)

    asyncio.run(scenario())


def test_a_turn_handed_over_as_the_wait_is_cancelled_goes_to_the_next_waiter(
    timeouts: list[asyncio.Timeout],
) -> None:
    async def scenario() -> None:
        admission, holding, second, third = await _two_waiting(timeouts)

        # The turn is handed to the second, and in the same step its request is cancelled
        # (its client went away, say).
        await holding.__aexit__(None, None, None)
        second.task.cancel()
        assert (admission.active, admission.waiting) == (1, 1)

        async with BOUNDED(DEADLINE_SECONDS):
            with pytest.raises(asyncio.CancelledError):
                await second.task
        assert not timeouts[0].expired()  # cancelled, not timed out: no Overloaded
        assert not second.inside.is_set()
        await _the_third_gets_the_turn(admission, third)

    asyncio.run(scenario())


def test_a_wait_that_timed_out_just_before_the_turn_came_is_passed_over(
    timeouts: list[asyncio.Timeout],
) -> None:
    async def scenario() -> None:
        admission, holding, second, third = await _two_waiting(timeouts)
        second_wait = timeouts[0]

        # The second's deadline passes first; the turn is freed in the same loop pass.
        second_wait.reschedule(asyncio.get_running_loop().time())
        await _one_loop_pass()
        await holding.__aexit__(None, None, None)

        async with BOUNDED(DEADLINE_SECONDS):
            with pytest.raises(Overloaded):
                await second.task
        assert second_wait.expired()
        assert not second.inside.is_set()
        await _the_third_gets_the_turn(admission, third)

    asyncio.run(scenario())


# The pace of the app predicts a wait: a request it says would wait past the deadline is
# refused at once, the others wait. A clock the test moves by hand: nothing here is timed.


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _paced(
    clock: Clock, turns: int, every: float
) -> tuple[Admission, AbstractAsyncContextManager[None]]:
    """A limit of one, ``turns`` already served ``every`` seconds apart, and the turn taken
    (by the holder returned, which keeps it for as long as it is referenced)."""
    admission = Admission(ceiling=1, queue=100, wait_seconds=2.05, limit=1, clock=clock)
    for _ in range(turns):
        async with admission.turn():
            clock.now += every
    holding = admission.turn()
    await holding.__aenter__()
    return admission, holding


async def _queue_until_refused(admission: Admission, most: int) -> tuple[int, str]:
    """How many wait before one is refused at once, and the refusal."""
    for n in range(most):
        waiter = Waiter(admission)
        await _one_loop_pass()
        if waiter.task.done():
            with pytest.raises(Overloaded) as refused:
                waiter.task.result()
            return n, str(refused.value)
        assert admission.waiting == n + 1
    return most, ""


def test_a_wait_the_apps_pace_says_would_pass_the_deadline_is_refused_at_once() -> None:
    async def scenario() -> None:
        clock = Clock()
        # 10 turns a second: 2.05 s of deadline is 20 places in the queue, not 21.
        admission, _holding = await _paced(clock, turns=20, every=0.1)

        waiting, refusal = await _queue_until_refused(admission, most=50)

        assert admission.turns_per_second() == pytest.approx(10.0)
        assert waiting == 20
        assert refusal == "a turn in about 2 s at 10.0 a second, past the 2.05 s a request may wait"

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("turns", "idle"),
    [(5, 0.0), (20, 3.0)],
    ids=["too few turns to tell", "no turn ended for a whole deadline"],
)
def test_without_a_recent_pace_requests_wait_for_their_deadline(turns: int, idle: float) -> None:
    async def scenario() -> None:
        clock = Clock()
        admission, _holding = await _paced(clock, turns=turns, every=0.1)
        clock.now += idle

        waiting, _refusal = await _queue_until_refused(admission, most=50)

        assert admission.turns_per_second() is None
        assert waiting == 50

    asyncio.run(scenario())
