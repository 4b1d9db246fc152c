"""``gateway init``: a starter manifest for a legacy Flask app, read from its url map.

One module per blueprint (the app's own routes form the module ``app``), each with the URL
patterns of its rules, all in state ``legacy``: the gateway then serves everything exactly
as before, and a team moves modules one by one by editing the file. Blueprints whose
patterns overlap are merged into one module, since a path must belong to one module only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask

from gateway.config.patterns import overlapping
from gateway.openapi.urlmap import api_rules, blueprint_of, manifest_pattern

_NAME = re.compile(r"[^a-z0-9_\-]+")


@dataclass
class _Module:
    name: str
    sources: list[str]
    paths: set[str] = field(default_factory=set)


def _module_name(blueprint: str) -> str:
    name = _NAME.sub("-", blueprint.lower()).strip("-_")
    return name if name and name[0].isalpha() else f"m-{name or 'app'}"


def modules_of(app: Flask) -> list[_Module]:
    modules: dict[str, _Module] = {}
    for rule in api_rules(app):
        blueprint = blueprint_of(rule)
        name = _module_name(blueprint)
        module = modules.setdefault(name, _Module(name=name, sources=[blueprint]))
        module.paths.add(manifest_pattern(rule.rule))
    return _merge_overlaps(list(modules.values()))


def _merge_overlaps(modules: list[_Module]) -> list[_Module]:
    merged = True
    while merged:
        merged = False
        for i, first in enumerate(modules):
            for second in modules[i + 1 :]:
                if any(overlapping(a, b) for a in first.paths for b in second.paths):
                    first.paths |= second.paths
                    first.sources += second.sources
                    first.name = f"{first.name}-{second.name}"
                    modules.remove(second)
                    merged = True
                    break
            if merged:
                break
    return modules


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def starter_manifest(app: Flask, *, legacy: str, v2: str | None = None) -> str:
    lines = [
        "# The migration manifest, written by `gateway init` from the legacy app's url map.",
        "# Every module starts in state legacy: the gateway serves the app exactly as before.",
        "# Move a module with state = shadow (shadow_sample_rate), canary (canary_percent), v2;",
        "# check the file with `gateway manifest check`. Paths are relative to legacy_prefix;",
        "# `*` is one path segment, a final `**` any number.",
        "",
        "[gateway]",
        f"legacy = {json.dumps(legacy)}",
        f"v2 = {json.dumps(v2)}" if v2 else '# v2 = "yourpackage.v2:app"   # once v2 serves routes',
    ]
    for module in modules_of(app):
        lines += ["", "[[module]]"]
        if len(module.sources) > 1:
            lines.append(f"# blueprints {', '.join(module.sources)}: their paths overlap")
        lines += [
            f"name = {json.dumps(module.name)}",
            f"paths = {_toml_list(sorted(module.paths))}",
            'state = "legacy"',
        ]
    return "\n".join(lines) + "\n"
