"""The shape shared by the stages that move raw messages forward (normalize, triage)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from envelopes import Addressed, WorkItem
from pipeline.logs import redact
from pipeline.queues import Publisher
from storage.db import reading, transaction
from storage.raw import record_failure
from storage.sweeps import unfinished_beyond, work_of

logger = logging.getLogger(__name__)

# Failures of the database itself: the whole batch is retried later, no message is blamed.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError, DisconnectionError)

Prepared = TypeVar("Prepared")

Onward = Addressed
"""A work item to publish once the transaction committed, with the channel it belongs to."""


@dataclass(slots=True)
class StageResult:
    """What to announce once a stage's transaction committed."""

    onward: list[Onward] = field(default_factory=list)
    dead: list[dict[str, object]] = field(default_factory=list)
    """Messages parked as dead in this transaction, for the dead-letter queue."""
    done: dict[str, list[object]] = field(default_factory=dict)
    """What the batch did, by id (``raw_message_ids``, ``case_ids``, …), for the log line."""

    def extend(self, other: StageResult) -> None:
        self.onward.extend(other.onward)
        self.dead.extend(other.dead)
        for key, values in other.done.items():
            self.done.setdefault(key, []).extend(values)


class RawStage(ABC, Generic[Prepared]):
    """Processes a batch of raw messages in one transaction; isolates any one that fails.

    A stage works in two steps. ``prepare`` reads the batch and does the CPU work (parsing,
    classifying) outside any write transaction, so that on SQLite the write lock is held only
    for writing. ``process`` then writes, inside the transaction, the results for the messages
    that are still waiting for this stage.
    """

    step: str
    done_event: str
    """The log event for a committed batch, with ``StageResult.done`` as its fields."""
    waits_in: str
    """The raw state this stage takes messages from: a failure counts only against a message
    still in it (a worker that lost a race to another must not blame a message done meanwhile)."""

    def __init__(self, engine: Engine, publisher: Publisher, *, max_attempts: int) -> None:
        self.engine = engine
        self.publisher = publisher
        self.max_attempts = max_attempts
        self._in_doubt: set[int] = set()
        """Messages of batches whose transaction failed with the database: it may have committed."""

    @abstractmethod
    def prepare(self, connection: Connection, ids: Sequence[int]) -> Prepared:
        """Read ``ids`` in a read-only transaction and compute what can be computed without writing."""

    @abstractmethod
    def process(self, connection: Connection, prepared: Prepared) -> StageResult:
        """Write the stage's results inside ``connection``'s transaction; skip messages done meanwhile."""

    def handle(self, items: Sequence[WorkItem]) -> dict[str, int]:
        """Do the batch; returns how many messages ended how (for the metrics)."""
        ids = sorted({i for item in items if item.record == "raw_message" for i in item.ids})
        if not ids:
            return {}
        try:
            result = self._run(ids)
        except TRANSIENT_DB_ERRORS:
            self._in_doubt.update(ids)
            raise
        except Exception as exc:  # noqa: BLE001 - find the one message that fails, keep the rest
            result = self._one_by_one(ids) if len(ids) > 1 else self._blame(ids[0], exc)
        if result.onward:
            self.publisher.publish(result.onward)
        if result.done:
            logger.info(self.done_event, extra=result.done)
        for notice in result.dead:
            self.publisher.publish_dead(notice, self.step)
        if self._in_doubt:
            self._resume_in_doubt()
        return {self.done_event: len(result.done.get("raw_message_ids", [])), "dead": len(result.dead)}

    def close(self) -> None:
        """The publisher is closed by the consumer that owns the thread."""

    def _resume_in_doubt(self) -> None:
        """Publish the next step of messages whose commit was in doubt and that a retry found done
        (``storage.sweeps.unfinished_beyond``), once the database answers again."""
        doubt = sorted(self._in_doubt)
        try:
            with reading(self.engine) as connection:
                unfinished = unfinished_beyond(connection, doubt, self.waits_in)
        except TRANSIENT_DB_ERRORS:
            return  # still away: the next batch that gets through tries again
        self._in_doubt.difference_update(doubt)
        if unfinished:
            logger.info("%s: resuming %d messages whose commit was in doubt", self.step, len(unfinished))
            self.publisher.publish(work_of(unfinished))

    def _run(self, ids: Sequence[int]) -> StageResult:
        with reading(self.engine) as connection:
            prepared = self.prepare(connection, ids)
        # Progress can be redone from the stored raw message: no fsync needed (see transaction()).
        with transaction(self.engine, durable=False) as connection:
            return self.process(connection, prepared)

    def _one_by_one(self, ids: Sequence[int]) -> StageResult:
        result = StageResult()
        for raw_id in ids:
            try:
                result.extend(self._run([raw_id]))
            except TRANSIENT_DB_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001
                result.extend(self._blame(raw_id, exc))
        return result

    def _blame(self, raw_id: int, exc: Exception) -> StageResult:
        """Count a failure against one message; it is retried by the sweeper until it is dead."""
        logger.error("%s failed", self.step, exc_info=exc, extra={"raw_message_id": raw_id})
        # repr() of a database error quotes the failing row: keep identities out of the stored
        # reason too, which the dead-letter queue and `dlq list` carry on.
        error = redact(f"{self.step}: {exc!r}")
        with transaction(self.engine) as connection:
            dead = record_failure(connection, raw_id, error, self.max_attempts, self.waits_in)
        return StageResult(dead=[dead_notice(raw_id, error)] if dead else [])


def dead_notice(raw_id: int, reason: str) -> dict[str, object]:
    return {"record": "raw_message", "id": raw_id, "reason": reason}
