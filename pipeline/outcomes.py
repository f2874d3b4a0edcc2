"""Writing send outcomes the moment they are known, and keeping them through a database outage.

A deliver batch sends concurrently. Each outcome is handed over as its send ends and written,
together with whatever else ended meanwhile, in one short transaction on a worker thread, so a
slow send never holds back the record of a fast one. When the database does not answer, the
outcomes are kept in memory and written when it answers again (retried with backoff) for as long
as their lease holds: a receipt the provider accepted just before an outage is recorded as sent
after it, not sent a second time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from pipeline.stage import TRANSIENT_DB_ERRORS
from storage.db import utcnow

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.1
MAX_RETRY_SECONDS = 2.0

T = TypeVar("T")


class OutcomeWriter(Generic[T]):
    """Writes items with ``write`` (returns the items it wrote) until ``until``, the lease of the
    batch; ``written`` collects what was written.

    ``write`` runs on a worker thread while sends are still in flight, so that they go on meanwhile.
    Once all ``expected`` outcomes are handed over, nothing is left to hold back: the last group is
    written on the loop's own thread, which spares a hand-over between threads per batch (the
    common case when a channel answers at once, every outcome comes in the same turn).
    """

    def __init__(self, write: Callable[[list[T]], list[T]], *, until: datetime, expected: int | None = None) -> None:
        self._write = write
        self._until = until
        self._expected = expected
        self._handed = 0
        self._waiting: list[T] = []
        self._tasks: list[asyncio.Task[None]] = []
        """Every drain task of the batch: one that failed is kept until ``finish`` raises its error."""
        self.written: list[T] = []

    def add(self, item: T) -> None:
        """Hand over one outcome; it is written with the next group."""
        self._waiting.append(item)
        self._handed += 1
        if not self._tasks or self._tasks[-1].done():
            self._tasks.append(asyncio.create_task(self._drain()))

    async def finish(self) -> None:
        """Wait until everything handed over is written, or given up at the end of the lease;
        then raise the first failure that is not the database's own, whichever drain it ended."""
        while self._tasks and not self._tasks[-1].done():
            await asyncio.wait([self._tasks[-1]])
        for task in self._tasks:
            task.result()

    async def _drain(self) -> None:
        held, pause = 0, FIRST_RETRY_SECONDS
        await asyncio.sleep(0)  # sends that end in the same turn of the loop share one transaction
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                if self._handed == self._expected:
                    wrote = self._write(group)
                else:
                    wrote = await asyncio.to_thread(self._write, group)
            except TRANSIENT_DB_ERRORS as exc:
                self._waiting[:0] = group
                if not held:
                    logger.warning(
                        "database unreachable (%s): holding send outcomes until it answers", type(exc).__name__
                    )
                held = len(self._waiting)
                left = (self._until - utcnow()).total_seconds()
                if left <= 0:
                    logger.error(
                        "%d send outcomes could not be written before their lease lapsed; "
                        "those messages will be sent again",
                        held,
                    )
                    self._waiting = []
                    return
                await asyncio.sleep(min(pause, left))
                pause = min(MAX_RETRY_SECONDS, pause * 2)
                continue
            self.written += wrote
            if held:
                logger.info("database answers again: %d held send outcomes written", len(wrote))
                held, pause = 0, FIRST_RETRY_SECONDS
