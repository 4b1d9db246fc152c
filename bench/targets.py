"""Issue 9's targets, and how a table says whether a figure meets its target."""

from __future__ import annotations

# v2 / legacy req/s per endpoint: the read paths v2 was rewritten for, and the rest.
V2_OVER_LEGACY_MAIN = 2.0  # article list, one article
V2_OVER_LEGACY_OTHER = 1.5
# The legacy app through the gateway against the same app alone on one gunicorn sync worker.
GATEWAY_OVER_SYNC = 0.9
# A /v2 probe's p99 while a database-bound legacy view is saturated, over its idle p99 ...
PROBE_P99_OVER_IDLE = 1.5
# ... while that legacy load reaches at least gunicorn gthread's req/s on the article list.
# Client p99 with the articles module shadowed at 100 % over the same with no shadow.
SHADOW_P99_OVER_OFF = 1.1
# Client p99 of a write with writes shadowed at 10 % (v2 answers first, rolled back) over off.
WRITE_SHADOW_P99_OVER_OFF = 1.2
# The gateway against the two-service deployment (nginx, gunicorn and uvicorn) on one machine:
# the /v2 probe's p99 with legacy saturated over its idle p99 is at most PROBE_P99_OVER_IDLE
# and at most this many times the two services' same ratio;
DEPLOY_PROBE_OVER_TWO_SERVICES = 1.2
# v2's req/s while both sides are loaded at once, and legacy's alone, over the two services';
DEPLOY_V2_BOTH_OVER_TWO_SERVICES = 0.9
DEPLOY_LEGACY_OVER_TWO_SERVICES = 0.9
# the memory of all its processes (PSS) over the two services' (and a write burst: no 503).
DEPLOY_PSS_OVER_TWO_SERVICES = 0.7


def verdict(met: bool, why: str = "") -> str:
    """The "met" cell: yes, or a bold no (with why, if given)."""
    if met:
        return "yes"
    return f"**no** ({why})" if why else "**no**"


def at_least(value: float, target: float) -> str:
    return verdict(value >= target)


def at_most(value: float, target: float) -> str:
    return verdict(value <= target)
