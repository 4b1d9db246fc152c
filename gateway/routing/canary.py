"""Canary buckets: which users of a canary module v2 answers, and that they stay there."""

from __future__ import annotations

import hashlib

# Buckets per module: a percent is a hundred of them, so percents are exact.
BUCKETS = 10_000


def canary_bucket(module: str, key: str) -> int:
    """A stable bucket in 0..9999 for ``key`` within ``module``: the same user, the same side.

    Raising a module's percent only adds buckets, so a user on v2 stays there.
    """
    digest = hashlib.blake2b(f"{module}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def in_canary(module: str, key: str, percent: int) -> bool:
    return canary_bucket(module, key) < percent * (BUCKETS // 100)
