"""A module's promotion gates (``[module.gates]``) and automatic rollback (``[module.rollback]``).

``gateway promote`` moves a module on only when every gate passes on the gateway's own
paired evidence: the same request answered by legacy and by v2 (the shadow's comparisons).
A gate with too little evidence is inconclusive, never passed. The defaults hold for every
module that sets none.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Gates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Below this many comparisons in the current state, every gate is inconclusive.
    min_samples: int = Field(default=100, ge=1)
    # The lower bound of the 95 % Wilson interval of the match rate must reach this.
    min_match_rate: float = Field(default=0.99, ge=0.0, le=1.0)
    # v2's 5xx or exceptions on requests legacy answered without one, as a share of those.
    max_v2_error_rate: float = Field(default=0.01, ge=0.0, le=1.0)
    # The p95 of each request's v2 / legacy latency; unset: not gated.
    max_latency_ratio: float | None = Field(default=None, gt=0.0)
    # How long the module must have been in its current state.
    min_minutes_in_state: float = Field(default=0.0, ge=0.0)
    # Evaluate and show the gates, but let promote through.
    dry_run: bool = False


class AutoRollback(BaseModel):
    """``[module.rollback]``: in ``canary`` and ``v2``, the limits past which the gateway
    moves the module back one state by itself. Off unless the table is there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # v2's 5xx as a share of the requests it answered for the module in the window.
    max_v2_error_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    # In canary: v2's mean time to the last byte over legacy's, in the same window.
    max_latency_ratio: float | None = Field(default=None, gt=0.0)
    window_seconds: float = Field(default=60.0, gt=0.0)
    # Fewer v2 requests than this in the window decide nothing.
    min_requests: int = Field(default=20, ge=1)
