"""The sweeper: whatever waited in a state longer than the timeout is published again.

This is what makes a lost work item harmless, whether it was lost in a crash, with an in-memory
queue, or in a broker outage: the row still says what is left to do, and every step is
idempotent, so doing one twice changes nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import Engine

from pipeline.queues import Publisher
from pipeline.records import Addressed, work_items
from pipeline.stage import TRANSIENT_DB_ERRORS
from storage.db import transaction, utcnow
from storage.models import RAW_RECEIVED
from storage.sweeps import Stale, take_stale

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 5000


class Sweeper:
    def __init__(self, engine: Engine, publisher: Publisher, *, stale_after: float, interval: float) -> None:
        self.engine = engine
        self.publisher = publisher
        self.stale_after = timedelta(seconds=stale_after)
        self.interval = interval

    def sweep(self, cutoff: datetime | None = None) -> int:
        """Publish again what is stale at ``cutoff`` (default: now minus the timeout)."""
        total = 0
        cutoff = cutoff or utcnow() - self.stale_after
        while True:
            with transaction(self.engine) as connection:
                stale = take_stale(connection, cutoff, SWEEP_LIMIT)
            if stale:
                self.publisher.publish(_work_items(stale))
            total += len(stale)
            if len(stale) < SWEEP_LIMIT:
                break
        if total:
            logger.info("sweeper re-published %d work items", total)
        return total

    def run(self, stop: threading.Event, *, everything_first: bool = False) -> None:
        """Sweep every interval until stopped; ``everything_first`` re-publishes all unfinished work
        at once (the in-memory queue starts empty, so nothing in it survived the last run)."""
        first = everything_first
        while not stop.is_set():
            try:
                self.sweep(utcnow() + timedelta(seconds=1) if first else None)
                first = False
            except TRANSIENT_DB_ERRORS as exc:
                logger.warning("sweeper cannot reach the database: %s", exc)
            stop.wait(self.interval)
        self.publisher.close()


def _work_items(stale: list[Stale]) -> list[Addressed]:
    deliver = [(s.id, s.channel) for s in stale if s.record == "outbox"]
    normalize = [(s.id, s.channel) for s in stale if s.record == "raw_message" and s.state == RAW_RECEIVED]
    triage = [(s.id, s.channel) for s in stale if s.record == "raw_message" and s.state != RAW_RECEIVED]
    return [
        *work_items("deliver", "outbox", deliver),
        *work_items("normalize", "raw_message", normalize),
        *work_items("triage", "raw_message", triage),
    ]
