"""The gateway's instruments: what each answer, shadow sample and legacy turn adds to ``/metrics``.

Labels are module names, sides, status classes and outcomes: never a raw path, so their
number is bounded by the manifest, whatever clients send. Each label set's children are
looked up once and kept, since a ``labels()`` call on every request would cost more than the
increment itself. Under ``gateway serve`` the values live in prometheus-client's
multiprocess files (:mod:`gateway.metrics.multiprocess`), so N workers report as one.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# The module label of an answer no module owns: a path of v2's own, the gateway's, or a
# legacy path outside every module.
NO_MODULE = ""
# The status class of a request that ended without an answer (its client left first).
UNANSWERED = "none"
# The shadow's stored outcomes, as the metric names them; a dropped sample is never stored.
OUTCOMES = {"matched": "match", "mismatched": "mismatch", "error": "error"}
DROPPED = "dropped"


def status_class(status: int) -> str:
    return f"{status // 100}xx" if status else UNANSWERED


class Metrics:
    """The instruments of one app, in no registry: a scrape registers them (or, in
    multiprocess mode, reads the files every process wrote instead)."""

    def __init__(self) -> None:
        self.requests = Counter(
            "gateway_requests",
            "Answers given, by the module owning the path, the side that answered, and class.",
            ["module", "side", "status_class"],
            registry=None,
        )
        self.durations = Histogram(
            "gateway_request_duration_seconds",
            "From a request's arrival to its answer's last byte, by module and side.",
            ["module", "side"],
            registry=None,
        )
        self.shadow = Counter(
            "gateway_shadow",
            "Shadow samples, by module and outcome: match, mismatch, error or dropped.",
            ["module", "outcome"],
            registry=None,
        )
        # Summed over the live workers: each sets its own admission's figures.
        self.queue_depth = Gauge(
            "gateway_legacy_queue_depth",
            "Legacy requests waiting for a turn.",
            registry=None,
            multiprocess_mode="livesum",
        )
        self.concurrency = Gauge(
            "gateway_legacy_concurrency",
            "Legacy requests in the legacy app now.",
            registry=None,
            multiprocess_mode="livesum",
        )
        self._turns = (0, 0)  # the figures last set: only what moved is written
        self._answers: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._outcomes: dict[tuple[str, str], Any] = {}

    @property
    def collectors(self) -> tuple[Any, ...]:
        return self.requests, self.durations, self.shadow, self.queue_depth, self.concurrency

    def answered(self, module: str, side: str, status: int, seconds: float) -> None:
        key = (module, side, status)
        children = self._answers.get(key)
        if children is None:
            children = (
                self.requests.labels(module, side, status_class(status)),
                self.durations.labels(module, side),
            )
            self._answers[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def shadowed(self, module: str, outcome: str) -> None:
        """A sample's end: a stored outcome (matched, mismatched, error) or ``dropped``."""
        key = (module, outcome)
        child = self._outcomes.get(key)
        if child is None:
            child = self._outcomes[key] = self.shadow.labels(module, OUTCOMES.get(outcome, outcome))
        child.inc()

    def legacy_turns(self, active: int, waiting: int) -> None:
        """The admission's figures, each time they move."""
        was_active, was_waiting = self._turns
        if active != was_active:
            self.concurrency.set(active)
        if waiting != was_waiting:
            self.queue_depth.set(waiting)
        self._turns = (active, waiting)
