"""What an operator changes at run time: a module's state, canary percent and sample rate.

The manifest declares each module's start; runtime changes (:mod:`gateway.control.changes`)
override these three fields and nothing else. A snapshot is the manifest with every change
applied, immutable: a request reads one and is served by it whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.config.manifest import Manifest, Module, State

# The order a module moves in: promote goes right, rollback left.
ORDER = (State.legacy, State.shadow, State.canary, State.v2)


@dataclass(frozen=True, slots=True)
class Setting:
    state: State
    canary_percent: int
    shadow_sample_rate: float

    @classmethod
    def of(cls, module: Module) -> Setting:
        return cls(module.state, module.canary_percent, module.shadow_sample_rate)

    @classmethod
    def read(cls, stored: Mapping[str, Any]) -> Setting:
        return cls(
            State(stored["state"]),
            int(stored["canary_percent"]),
            float(stored["shadow_sample_rate"]),
        )

    def stored(self) -> dict[str, Any]:
        return {
            "state": str(self.state),
            "canary_percent": self.canary_percent,
            "shadow_sample_rate": self.shadow_sample_rate,
        }

    def problem(self) -> str | None:
        """Why this setting cannot serve, as the manifest's own check says it."""
        if not 0 <= self.canary_percent <= 100:
            return "the canary percent must be between 0 and 100"
        if not 0.0 <= self.shadow_sample_rate <= 1.0:
            return "the sample rate must be between 0 and 1"
        if self.state is State.canary and self.canary_percent == 0:
            return "state canary needs a canary percent between 1 and 100 (--percent)"
        if self.state is State.shadow and self.shadow_sample_rate == 0:
            return "state shadow needs a sample rate above 0 (--sample)"
        return None

    def describe(self) -> str:
        if self.state is State.canary:
            return f"canary {self.canary_percent}%"
        if self.state is State.shadow:
            return f"shadow {self.shadow_sample_rate:g}"
        return str(self.state)


def neighbour(state: State, step: int) -> State | None:
    """The state ``step`` places along :data:`ORDER` (None past either end)."""
    index = ORDER.index(state) + step
    return ORDER[index] if 0 <= index < len(ORDER) else None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The manifest with every runtime change up to ``version`` applied; ``since`` holds the
    version of each changed module's newest change (the start of its current state)."""

    version: int
    manifest: Manifest
    since: Mapping[str, int] = dataclasses.field(default_factory=dict)


def applied(
    manifest: Manifest,
    settings: Mapping[str, Setting],
    version: int,
    since: Mapping[str, int] | None = None,
) -> Snapshot:
    """``manifest`` with each named module's setting replaced (unknown names are ignored)."""
    modules = tuple(
        dataclasses.replace(
            module,
            state=setting.state,
            canary_percent=setting.canary_percent,
            shadow_sample_rate=setting.shadow_sample_rate,
        )
        if (setting := settings.get(module.name)) is not None
        else module
        for module in manifest.modules
    )
    return Snapshot(version, dataclasses.replace(manifest, modules=modules), since or {})
