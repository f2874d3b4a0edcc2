"""Tracking sequence numbers, taken from the counter a block at a time.

Reserving numbers inside the triage transaction would hold the counter row's lock until that
transaction commits, so every triage worker on PostgreSQL would create cases one at a time. A
worker instead takes a block in a short transaction of its own, before its triage transaction,
and hands numbers out of it from memory. A number is used up once handed out, whether its
transaction commits or not; the numbers left in memory when a worker stops are never issued.
Both leave gaps in the sequence, never a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from storage.cases import reserve_sequences
from storage.db import transaction


class TrackingNumbers:
    """One triage worker's reserved numbers, per scope (the two-digit year)."""

    def __init__(self, engine: Engine, block_size: int) -> None:
        self.engine = engine
        self.block_size = block_size
        self._free: dict[str, list[range]] = {}

    def available(self, scope: str) -> int:
        return sum(len(block) for block in self._free.get(scope, ()))

    def reserve(self, needs: Mapping[str, int]) -> None:
        """Make sure at least ``needs[scope]`` numbers are at hand in each scope.

        Call it outside any write transaction: it commits its own before any case uses the
        numbers. That commit needs no fsync of its own on SQLite: the WAL is replayed in order,
        so a crash that loses it loses every later case too, and no number is issued twice.
        """
        short = {scope: need - self.available(scope) for scope, need in needs.items()}
        short = {scope: missing for scope, missing in short.items() if missing > 0}
        if not short:
            return
        with transaction(self.engine, durable=False) as connection:
            for scope in sorted(short):  # one order for every worker: no deadlock between scopes
                count = max(self.block_size, short[scope])
                first = reserve_sequences(connection, scope, count)
                self._free.setdefault(scope, []).append(range(first, first + count))

    def take(self, scope: str, count: int) -> list[int]:
        """``count`` numbers of ``scope``, in order; they must have been reserved."""
        if self.available(scope) < count:
            raise RuntimeError(f"tracking numbers of {scope!r} were not reserved before the transaction")
        taken: list[int] = []
        blocks = self._free[scope]
        while len(taken) < count:
            block = blocks[0]
            wanted = count - len(taken)
            taken.extend(block[:wanted])
            if wanted >= len(block):
                blocks.pop(0)
            else:
                blocks[0] = block[wanted:]
        return taken
