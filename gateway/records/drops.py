"""Shadow samples dropped for want of room: counted in memory, added to one row per module."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from gateway.records.store import RecordStore
from gateway.records.tables import ShadowDrop


async def record_drops(store: RecordStore, module: str, count: int) -> None:
    """Add ``count`` dropped samples to ``module``'s tally."""
    increment = (
        update(ShadowDrop)
        .where(ShadowDrop.module == module)
        .values(dropped=ShadowDrop.dropped + count)
    )
    async with store.transaction() as session:
        if (await session.execute(increment)).rowcount:  # type: ignore[attr-defined]
            return
        try:
            async with session.begin_nested():
                await session.execute(insert(ShadowDrop).values(module=module, dropped=count))
        except IntegrityError:  # another worker inserted the row first
            await session.execute(increment)


class DropCounter:
    """Counts drops where they happen (never waiting) and writes them when told to."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self.pending: Counter[str] = Counter()

    def count(self, module: str) -> None:
        self.pending[module] += 1

    async def flush(self) -> None:
        """Write the drops counted so far; those not written stay counted for the next try."""
        pending, self.pending = self.pending, Counter()
        while pending:
            module, count = next(iter(pending.items()))
            try:
                await record_drops(self.store, module, count)
            except BaseException:
                self.pending.update(pending)
                raise
            del pending[module]
