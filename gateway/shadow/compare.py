"""Compare legacy's answer with v2's: status, then JSON bodies after the ignore and noise rules.

Ignore rules are the manifest's dotted JSON paths (:mod:`gateway.config.ignore_rules`); each
becomes the DeepDiff path pattern that leaves it, and everything beneath it, out. Noise rules
(:mod:`gateway.shadow.noise`) let a value differ only as its kind allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deepdiff import DeepDiff

from gateway.config.ignore_rules import rule_parts
from gateway.config.noise_rules import NoiseRule
from gateway.shadow.noise import settled

_INDEX = re.compile(r"\[\d+\]")


def rule_to_regex(rule: str) -> str:
    """The DeepDiff path regex for one ignore rule (``root['a'][0]['b']`` form)."""
    pattern = "^root"
    for name, index in rule_parts(rule):
        if name:
            pattern += re.escape(f"['{name}']")
        else:
            pattern += r"\[\d+\]" if index == "*" else re.escape(f"[{index}]")
    return pattern + r"(\[.*)?$"


@dataclass(frozen=True, slots=True)
class Verdict:
    matched: bool
    diff: dict[str, Any] | None
    signature: str | None


def compare(
    *,
    legacy_status: int,
    legacy_body: bytes,
    v2_status: int,
    v2_body: bytes,
    ignore: Sequence[str] = (),
    noise: Sequence[NoiseRule] = (),
) -> Verdict:
    if legacy_status != v2_status:
        signature = f"status {legacy_status} != {v2_status}"
        return Verdict(False, {"status": {"legacy": legacy_status, "v2": v2_status}}, signature)
    legacy_json = as_json(legacy_body)
    v2_json = settled(legacy_json, as_json(v2_body), noise)
    difference = DeepDiff(
        legacy_json,
        v2_json,
        exclude_regex_paths=[rule_to_regex(rule) for rule in ignore],
        verbose_level=2,
    )
    if not difference:
        return Verdict(True, None, None)
    paths = sorted({_INDEX.sub("[*]", str(path)) for path in difference.affected_paths})
    diff: dict[str, Any] = json.loads(difference.to_json())
    return Verdict(False, diff, ", ".join(paths)[:255])


def as_json(body: bytes) -> Any:
    """The body as JSON; a body that is not JSON is compared as text."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
