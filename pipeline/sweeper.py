"""The sweeper: whatever waited in a state longer than the timeout is published again.

This is what makes a lost work item harmless, whether it was lost in a crash, with an in-memory
queue, or in a broker outage: the row still says what is left to do, and every step is
idempotent, so doing one twice changes nothing. An outbox row being sent is the exception: it is
under its deliver worker's lease, and taken back only once that lapsed (``storage/sweeps.py``).

A step whose queue still holds a backlog is given more time (``BACKLOG_PATIENCE`` timeouts): its
old rows are most likely still waiting in that queue, and publishing them again would only
double the traffic. A lost item there is still published, just later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from kombu.entity import Queue
from sqlalchemy import Engine

from pipeline.queues import Publisher
from pipeline.stage import TRANSIENT_DB_ERRORS
from storage.db import transaction, utcnow
from storage.sweeps import Cutoffs, take_stale, work_of

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 5000
BACKLOG_PATIENCE = 10


class Sweeper:
    def __init__(
        self,
        engine: Engine,
        publisher: Publisher,
        *,
        stale_after: float,
        interval: float,
        periodic: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.stale_after = timedelta(seconds=stale_after)
        self.interval = interval
        self.periodic = tuple(periodic)
        """Other rounds to run after each sweep (the deadline watch: ``triage/sweep.py``)."""

    def sweep(self, cutoff: datetime | None = None) -> int:
        """Publish again what is stale at ``cutoff`` (default: now minus the timeout, longer for a
        step with a backlog)."""
        total = 0
        cutoffs = Cutoffs.every(cutoff) if cutoff else self._cutoffs()
        while True:
            with transaction(self.engine) as connection:
                stale = take_stale(connection, cutoffs, SWEEP_LIMIT)
            if stale:
                self.publisher.publish(work_of(stale))
            total += len(stale)
            if len(stale) < SWEEP_LIMIT:
                break
        if total:
            logger.info("sweeper re-published %d work items", total)
        return total

    def _cutoffs(self) -> Cutoffs:
        now = utcnow()
        normal, patient = now - self.stale_after, now - self.stale_after * BACKLOG_PATIENCE
        topology = self.publisher.topology

        def cutoff(*queues: Queue) -> datetime:
            busy = any(self.publisher.waiting(queue) for queue in queues)
            return patient if busy else normal

        return Cutoffs(
            normalize=cutoff(topology.normalize_queue()),
            triage=cutoff(topology.triage_queue()),
            deliver=cutoff(*(topology.deliver_queue(channel) for channel in self.publisher.channels)),
        )

    def _run_periodic(self) -> None:
        """A periodic round that fails for another reason than the database is logged, and the
        sweeper goes on: re-publishing lost work matters more than any one round."""
        for work in self.periodic:
            try:
                work()
            except TRANSIENT_DB_ERRORS:
                raise
            except Exception:
                logger.exception("sweeper: a periodic round failed")

    def run(self, stop: threading.Event, *, everything_first: bool = False) -> None:
        """Sweep every interval until stopped; ``everything_first`` re-publishes all unfinished work
        at once (the in-memory queue starts empty, so nothing in it survived the last run)."""
        first = everything_first
        failed = 0
        while not stop.is_set():
            try:
                self.sweep(utcnow() + timedelta(seconds=1) if first else None)
                first = False
                self._run_periodic()
                if failed:
                    logger.info("sweeper reaches the database again, after %d failed sweeps", failed)
                failed = 0
            except TRANSIENT_DB_ERRORS as exc:
                if not failed:  # one line per outage, not one per sweep
                    logger.warning(
                        "sweeper cannot reach the database (%s); sweeping again when it answers", type(exc).__name__
                    )
                failed += 1
            stop.wait(self.interval)
        self.publisher.close()
