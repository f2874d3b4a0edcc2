"""Stage consumers: a thread per stage, its own kombu connection, work taken in batches.

A consumer drains up to ``batch_size`` work items, hands them to its stage in one call, and
acknowledges them only after the stage has committed. If the stage fails as a whole (the
database is unreachable), the items are put back after a pause and tried again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kombu.entity import Queue
from kombu.message import Message
from kombu.messaging import Consumer
from pydantic import ValidationError

from envelopes import WorkItem
from pipeline.backoff import exponential
from pipeline.metrics import Metrics
from pipeline.queues import Publisher, Topology
from pipeline.stage import TRANSIENT_DB_ERRORS

logger = logging.getLogger(__name__)

IDLE_WAIT_SECONDS = 0.1
MORE_WAIT_SECONDS = 0.001
MAX_BACKOFF_SECONDS = 1.0
"""A consumer back after an outage starts within a second: the backlog drains right away."""
PREFETCH_ITEMS = 50
"""Work items taken from the broker ahead of acknowledging; each names up to 500 records."""

BatchHandler = Callable[[Sequence[WorkItem]], Mapping[str, int]]
"""Handles a batch in its stage; returns how many messages ended how."""


class StageConsumer:
    """Feeds one stage from its queues until ``stop`` is set, about ``batch_size`` records at a time."""

    def __init__(
        self,
        name: str,
        topology: Topology,
        queues: Sequence[Queue],
        handle_batch: BatchHandler,
        publisher: Publisher,
        *,
        batch_size: int,
        stop: threading.Event,
        metrics: Metrics | None = None,
    ) -> None:
        self.name = name
        self.topology = topology
        self.queues = list(queues)
        self.handle_batch = handle_batch
        self.publisher = publisher
        self.batch_size = batch_size
        self.stop = stop
        self.metrics = metrics
        self._buffer: list[tuple[Any, Message]] = []
        self._buffered_ids = 0
        self._failures = 0

    def run(self) -> None:
        """Consume until stopped, reconnecting with backoff when the broker goes away."""
        while not self.stop.is_set():
            try:
                self._consume()
            except Exception as exc:  # noqa: BLE001 - broker outages are retried, never fatal
                self._failures += 1
                if self._failures == 1:
                    logger.warning("stage %s lost its broker connection: %s", self.name, exc)
                self.stop.wait(exponential(self._failures, 0.2, MAX_BACKOFF_SECONDS))
        self.publisher.close()

    def _consume(self) -> None:
        self._buffer, self._buffered_ids = [], 0  # unacknowledged items are redelivered
        with self.topology.connection() as connection:
            channel = connection.channel()
            consumer = Consumer(
                channel,
                queues=self.queues,
                callbacks=[self._on_message],
                accept=["json"],
                prefetch_count=PREFETCH_ITEMS,
                on_decode_error=self._on_decode_error,
            )
            with consumer:
                if self._failures:
                    logger.info("stage %s reconnected to the broker", self.name)
                    self._failures = 0
                while not self.stop.is_set():
                    self._fill(connection)
                    if self._buffer:
                        self._process()

    def _fill(self, connection: Any) -> None:
        try:
            connection.drain_events(timeout=IDLE_WAIT_SECONDS)
        except TimeoutError:
            return
        while self._buffered_ids < self.batch_size:
            try:
                connection.drain_events(timeout=MORE_WAIT_SECONDS)
            except TimeoutError:
                return

    def _on_message(self, body: Any, message: Message) -> None:
        self._buffer.append((body, message))
        ids = body.get("ids") if isinstance(body, dict) else None
        self._buffered_ids += len(ids) if isinstance(ids, list) else 1

    def _on_decode_error(self, message: Message, exc: Exception) -> None:
        logger.error("stage %s got an undecodable work item: %s", self.name, exc)
        self.publisher.publish_dead({"stage": self.name, "reason": f"undecodable: {exc}"}, self.name)
        message.ack()

    def _process(self) -> None:
        batch, self._buffer, self._buffered_ids = self._buffer, [], 0
        items: list[WorkItem] = []
        messages: list[Message] = []
        for body, message in batch:
            try:
                items.append(WorkItem.model_validate(body))
                messages.append(message)
            except ValidationError as exc:
                logger.error("stage %s got an invalid work item: %s", self.name, exc.errors(include_input=False)[:1])
                self.publisher.publish_dead(
                    {"stage": self.name, "reason": "invalid work item", "body": body}, self.name
                )
                message.ack()
        if not items:
            return
        started = time.perf_counter()
        try:
            outcomes = self.handle_batch(items)
        except Exception as exc:
            if self.metrics is not None:
                self.metrics.batch_failures.labels(stage=self.name).inc()
            self._failures += 1
            pause = exponential(self._failures, 0.2, MAX_BACKOFF_SECONDS)
            if self._failures == 1:  # once a streak: a database outage is one line, not one a batch
                transient = isinstance(exc, TRANSIENT_DB_ERRORS)
                logger.log(
                    logging.WARNING if transient else logging.ERROR,
                    "stage %s cannot process its work items (%s); retrying with backoff",
                    self.name,
                    type(exc).__name__,
                    exc_info=not transient,
                )
            time.sleep(pause)
            for message in messages:
                message.requeue()
            return
        if self._failures:
            logger.info("stage %s processes again, after %d failed attempts", self.name, self._failures)
        self._failures = 0
        for message in messages:
            message.ack()
        if self.metrics is not None:
            self.metrics.batch_seconds.labels(stage=self.name).observe(time.perf_counter() - started)
            self.metrics.count(self.name, outcomes)
