"""What a test shares with the legacy views it drives.

The views run on the gateway's threads, or in legacy processes forked from the test's own
process (``legacy_processes``): semaphores, events, queues and counters they share with the
test come from the ``fork`` context, which works in both.
"""

from __future__ import annotations

import multiprocessing

SHARED = multiprocessing.get_context("fork")
