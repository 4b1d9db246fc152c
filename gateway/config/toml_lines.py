"""Where a table, or one key in it, sits in a manifest's TOML text (``tomllib`` keeps no lines)."""

from __future__ import annotations

import re

_TABLE = re.compile(r"\s*\[")
_MODULE_KEY_TABLE = re.compile(r"\s*\[\s*module\s*\.")
_MODULE = re.compile(r"\[\[\s*module\s*\]\]")
_GATEWAY = re.compile(r"\[\s*gateway\s*]")
_GATEWAY_SUBTABLE = re.compile(r"\[\s*gateway\s*\.")


class TomlLines:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        headers = [
            (i + 1, line.strip())
            for i, line in enumerate(self.lines)
            if _TABLE.match(line) and not _MODULE_KEY_TABLE.match(line)
        ]
        self.modules = [(n, self._end(n, headers)) for n, h in headers if _MODULE.match(h)]
        self.gateway = next(
            ((n, self._end(n, headers)) for n, h in headers if _GATEWAY.match(h)), None
        )

    def _end(self, start: int, headers: list[tuple[int, str]]) -> int:
        later = [n for n, h in headers if n > start and not _GATEWAY_SUBTABLE.match(h)]
        return later[0] if later else len(self.lines) + 1

    def _find(self, span: tuple[int, int], key: str | None) -> int:
        start, end = span
        if key is not None:
            for number in range(start + 1, end):
                if re.match(rf"\s*{re.escape(key)}\s*=", self.lines[number - 1]):
                    return number
        return start

    def of_module(self, index: int, key: str | None = None) -> int:
        """The line of the ``index``-th ``[[module]]`` table, or of its ``key``."""
        return self._find(self.modules[index], key) if index < len(self.modules) else 1

    def of_option(self, key: str | None = None) -> int:
        """The line of the ``[gateway]`` table, or of its ``key``."""
        return self._find(self.gateway, key) if self.gateway else 1
