"""The one error for a gateway that cannot start: everything wrong with its configuration."""

from __future__ import annotations

from collections.abc import Sequence


class ConfigError(ValueError):
    """Every problem found, one ``where: option: problem`` line each, reported at once."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)
