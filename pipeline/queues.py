"""kombu topology: one topic exchange, a work queue per stage, and a dead-letter queue.

Routing keys follow DESIGN.md's flow: ``raw.<channel>`` -> normalize, ``normalized`` -> triage,
``outbound.<channel>`` -> deliver.<channel>, ``dead.<step>`` -> dead. The queue only distributes
work; the database says what is done, so a lost work item is re-published by the sweeper.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Producer

from envelopes import WorkItem

logger = logging.getLogger(__name__)

MEMORY_POLLING_SECONDS = 0.002
FILESYSTEM_POLLING_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class Topology:
    """Names of the exchange and queues, under a prefix so that pipelines can share a broker."""

    broker_url: str
    prefix: str = "satupintu"
    data_dir: Path = Path("./var")

    @property
    def is_amqp(self) -> bool:
        return self.broker_url.startswith(("amqp://", "pyamqp://"))

    @property
    def is_memory(self) -> bool:
        return self.broker_url.startswith("memory://")

    @property
    def exchange(self) -> Exchange:
        return Exchange(self.prefix, type="topic", durable=True)

    def _queue(self, name: str, routing_key: str, *, dead_letter: bool = True) -> Queue:
        arguments: dict[str, Any] = {}
        if self.is_amqp:
            arguments["x-queue-type"] = "quorum"
            if dead_letter:
                arguments["x-dead-letter-exchange"] = self.prefix
                arguments["x-dead-letter-routing-key"] = f"dead.{name}"
        return Queue(
            f"{self.prefix}.{name}",
            exchange=self.exchange,
            routing_key=routing_key,
            durable=True,
            auto_delete=False,
            queue_arguments=arguments or None,
        )

    def normalize_queue(self) -> Queue:
        return self._queue("normalize", "raw.*")

    def triage_queue(self) -> Queue:
        return self._queue("triage", "normalized")

    def deliver_queue(self, channel: str) -> Queue:
        return self._queue(f"deliver.{channel}", f"outbound.{channel}")

    def dead_queue(self) -> Queue:
        return self._queue("dead", "dead.#", dead_letter=False)

    def all_queues(self, channels: Iterable[str]) -> list[Queue]:
        return [
            self.normalize_queue(),
            self.triage_queue(),
            *(self.deliver_queue(c) for c in channels),
            self.dead_queue(),
        ]

    def connection(self) -> Connection:
        """A new kombu connection with transport options suited to the URL."""
        options: dict[str, Any] = {}
        if self.is_memory:
            options["polling_interval"] = MEMORY_POLLING_SECONDS
        elif self.broker_url.startswith("filesystem://"):
            folder = self._filesystem_folder()
            folder.mkdir(parents=True, exist_ok=True)
            options.update(
                data_folder_in=str(folder),
                data_folder_out=str(folder),
                # the exchange's bindings: kept beside the queues, not in the working directory,
                # so that workers started from anywhere route alike
                control_folder=str(folder / "control"),
                store_processed=False,
                polling_interval=FILESYSTEM_POLLING_SECONDS,
            )
        return Connection(self.broker_url, transport_options=options, heartbeat=0)

    def _filesystem_folder(self) -> Path:
        path = self.broker_url.removeprefix("filesystem://")
        return Path(path) if path.strip("/") else self.data_dir / "queue"


def routing_key(item: WorkItem, channel: str) -> str:
    """Where a work item goes: normalize by channel, triage, or delivery by channel."""
    if item.step == "normalize":
        return f"raw.{channel}"
    if item.step == "triage":
        return "normalized"
    return f"outbound.{channel}"


class Publisher:
    """Publishes work items on its own connection; used from one thread only.

    A failed publish is logged, not raised: the row is already committed in its state and the
    sweeper publishes it again, so the caller can go on answering its channel.
    """

    def __init__(self, topology: Topology, channels: Iterable[str]) -> None:
        self.topology = topology
        self.channels = list(channels)
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def _ensure(self) -> Producer:
        if self._producer is None:
            self._connection = self.topology.connection()
            channel = self._connection.channel()
            for queue in self.topology.all_queues(self.channels):
                queue.bind(channel).declare()
            self._producer = Producer(channel, exchange=self.topology.exchange, serializer="json")
        return self._producer

    def publish(self, items: Iterable[tuple[WorkItem, str]]) -> bool:
        """Publish ``(item, channel)`` pairs; False if the broker could not take them."""
        try:
            producer = self._ensure()
            for item, channel in items:
                producer.publish(
                    item.to_wire(),
                    routing_key=routing_key(item, channel),
                    delivery_mode=2,
                    retry=True,
                    retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.5},
                )
            return True
        except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by the sweeper
            logger.warning("publish failed; the sweeper will publish again: %s", exc)
            self.close()
            return False

    def waiting(self, queue: Queue) -> int | None:
        """How many work items wait in ``queue`` (not counting those being worked on); None if
        the broker cannot say."""
        try:
            declared = queue.bind(self._ensure().channel).queue_declare(passive=True)
        except Exception as exc:  # noqa: BLE001 - the sweeper then treats the queue as idle
            logger.debug("cannot read the depth of %s: %s", queue.name, exc)
            self.close()
            return None
        return int(declared.message_count)

    def publish_dead(self, payload: dict[str, Any], step: str) -> None:
        """Tell the dead-letter queue about a message parked as dead (the row says it too)."""
        try:
            self._ensure().publish(payload, routing_key=f"dead.{step}", delivery_mode=2, retry=True)
        except Exception as exc:  # noqa: BLE001
            logger.warning("dead-letter publish failed (the row is marked dead): %s", exc)
            self.close()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                logger.debug("error closing publisher connection", exc_info=True)
        self._connection = None
        self._producer = None
