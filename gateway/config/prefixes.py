"""Whose a path is: v2's, the gateway's own, or the legacy app's. One reading, for the
router on every request and for the start-up check of what a prefix would hide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Side = Literal["v2", "gateway", "legacy"]


@dataclass(frozen=True, slots=True)
class Prefixes:
    # '' for a legacy app at the root, which then answers every path of no one else.
    legacy: str
    v2: str
    # '' when the gateway's own endpoints are at the root (the legacy app under a prefix).
    own: str

    def side(self, path: str) -> Side:
        if path.startswith(self.v2 + "/"):
            return "v2"
        own = self.own
        if own and (path == own or path.startswith(own + "/")):
            return "gateway"
        legacy = self.legacy
        if not legacy or path == legacy or path.startswith(legacy + "/"):
            return "legacy"
        return "gateway"
