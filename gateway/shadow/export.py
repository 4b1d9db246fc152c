"""``gateway parity export``: stored mismatches written as a pytest file, one test each.

Each test sends the recorded request to v2 and expects legacy's recorded answer
(:mod:`gateway.shadow.exported`). The file holds no credential and no personal data: the
shadow stored none of the first; of the second, e-mail addresses anywhere and the values of
keys that name personal data (``email``, ``phone``, ``password``, tokens...) are replaced,
and each replaced path is left out of that test's comparison. Only headers that shape an
answer are kept (a forwarded address, for one, is a person's).
"""

from __future__ import annotations

import re
from datetime import date
from pprint import pformat
from typing import Any

from gateway.records.tables import ShadowComparison

REDACTED = "<redacted>"
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(\.[\w\-]+)+")
_PERSONAL_KEYS = re.compile(
    r"(e[-_]?mail|phone|password|passwd|token|secret|address|birth|ssn|iban|card)", re.I
)
_KEPT_HEADERS = frozenset({"accept", "accept-language", "content-type", "x-requested-with"})
_NAME = re.compile(r"[^a-z0-9]+")


def _redacted(value: Any, path: str, found: set[str]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if _PERSONAL_KEYS.search(str(key)) and isinstance(item, str | int | float):
                found.add(inner)
                out[key] = REDACTED
            else:
                out[key] = _redacted(item, inner, found)
        return out
    if isinstance(value, list):
        return [_redacted(item, f"{path}[*]", found) for item in value]
    if isinstance(value, str) and _EMAIL.search(value):
        found.add(path)
        return _EMAIL.sub(REDACTED, value)
    return value


def _test(comparison: ShadowComparison, number: int) -> str:
    request = comparison.request
    found: set[str] = set()
    body = _redacted(comparison.legacy_body, "", found)
    headers = {k: v for k, v in request["headers"].items() if k in _KEPT_HEADERS}
    name = _NAME.sub("_", f"{request['method']} {request['path']}".lower()).strip("_")
    arguments = {
        "method": request["method"],
        "path": request["path"],
        "query": _EMAIL.sub("redacted@example.invalid", request.get("query", "")),
        "headers": headers,
        "authenticated": bool(request.get("authenticated")),
        "status": comparison.legacy_status,
        "body": body,
        "redacted": sorted(path for path in found if path),
    }
    lines = ",\n".join(
        f"        {key}={pformat(value, width=80, sort_dicts=False)}"
        for key, value in arguments.items()
    )
    signature = (comparison.signature or "").replace('"', "'")[:200]
    return (
        f"def test_{number:03d}_{name}() -> None:\n"
        f'    """Recorded {comparison.created_at:%Y-%m-%d %H:%M} UTC: {signature}"""\n'
        f"    V2.expect(\n{lines},\n    )\n"
    )


def _requests(count: int) -> str:
    return f"{count} request" if count == 1 else f"{count} requests"


def exported_tests(manifest: str, module: str, comparisons: list[ShadowComparison]) -> str:
    """The pytest file for ``module``'s stored mismatches, v2 built from ``manifest``."""
    header = (
        f'"""Parity tests of module {module}: {_requests(len(comparisons))} legacy and v2 '
        "answered differently in the shadow.\n\n"
        f"Written by `gateway parity export {module}` on {date.today()}. Each sends the recorded "
        "request to v2\nand expects legacy's recorded answer; fix v2 until the file passes. "
        "Requests recorded with\ncredentials run with GATEWAY_PARITY_AUTHORIZATION, and are "
        'skipped without it.\n"""\n\n'
        "from gateway.shadow.exported import ParityV2\n\n"
        f"V2 = ParityV2({manifest!r}, {module!r})\n"
    )
    tests = [_test(comparison, n) for n, comparison in enumerate(comparisons, start=1)]
    return header + "".join(f"\n\n{test}" for test in tests)
