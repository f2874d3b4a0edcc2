"""kombu topology: one topic exchange, a work queue per stage, and a dead-letter queue.

Routing keys follow DESIGN.md's flow: ``raw.<channel>`` -> normalize, ``normalized`` -> triage,
``outbound.<channel>`` -> deliver.<channel>, ``dead.<step>`` -> dead. The queue only distributes
work; the database says what is done, so a lost work item is re-published by the sweeper. Work
items go out through a :class:`Publisher`, whose own thread does the waiting for the broker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Producer

from envelopes import Addressed, Step, WorkItem, work_items
from pipeline.backoff import exponential

logger = logging.getLogger(__name__)

MEMORY_POLLING_SECONDS = 0.002
FILESYSTEM_POLLING_SECONDS = 0.02
MAX_HELD_RECORDS = 100_000
"""Records a publisher keeps while the broker is away (over a minute of the benchmark's peak
rate); past that, :meth:`Publisher.publish` refuses and the work waits for the sweeper."""
RECONNECT_FIRST_SECONDS = 0.05
RECONNECT_MAX_SECONDS = 1.0
CONFIRM_TIMEOUT_SECONDS = 5.0
DEPTH_TIMEOUT_SECONDS = 5.0
CLOSE_GRACE_SECONDS = 5.0
BACKFILL_CHUNK = 5000
COMMIT_GRACE_SECONDS = 0.5
"""A refused caller marks its rows as left to the sweeper and commits just after; the backfill
runs at least this long after the last refusal, so that it finds them."""

Record = Literal["raw_message", "outbox"]
Backfill = Callable[[int], Sequence[Addressed]]
"""Work items for up to n records that were left to the sweeper, now marked as queued."""


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

    def connection(self, *, confirm_publish: bool = False) -> Connection:
        """A new kombu connection with transport options suited to the URL; ``confirm_publish``
        makes each publish on RabbitMQ wait for the broker's confirm."""
        options: dict[str, Any] = {}
        if self.is_amqp and confirm_publish:
            options["confirm_publish"] = True
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


@dataclass(frozen=True, slots=True)
class _Publish:
    items: list[Addressed]
    size: int


@dataclass(frozen=True, slots=True)
class _Dead:
    payload: dict[str, Any]
    step: str
    size: int = 1


@dataclass(frozen=True, slots=True)
class _Depth:
    queue: Queue
    answer: Future[int | None] = field(default_factory=Future)
    size: int = 0


_Job = _Publish | _Dead | _Depth
"""What a publisher's thread is handed: work items to publish, a dead notice, a depth to read."""


@dataclass(slots=True)
class _Outage:
    """Since when the broker is away (or the publisher full), and what it held and refused."""

    since: float
    published: int = 0
    refused: int = 0


class Publisher:
    """Publishes work items from a thread and a connection of its own: no caller waits for the broker.

    ``publish`` hands the items over and returns at once; the thread publishes all that waits in
    one go, the items of one step and channel merged (up to 500 ids each). While the broker is
    away it keeps what it was handed, up to ``max_held`` records, reconnects with a short backoff
    and publishes it the moment the broker is back; beyond that bound ``publish`` refuses, and
    the caller leaves its rows to the sweeper (they are committed in their state: nothing is
    lost). On RabbitMQ every publish waits for the broker's confirm, so an item cut off by an
    outage is published again rather than lost unseen. An outage takes two log lines: one when
    the broker goes, one when it is back, with the counts.
    """

    def __init__(self, topology: Topology, channels: Iterable[str], *, max_held: int = MAX_HELD_RECORDS) -> None:
        self.topology = topology
        self.channels = list(channels)
        self.max_held = max_held
        self._changed = threading.Condition()
        self._jobs: deque[_Job] = deque()
        self._held = 0
        self._closing = False
        self._outage: _Outage | None = None
        self._backfill: Backfill | None = None
        self._backfill_at: float | None = None  # when the backfill is due (monotonic)
        self._refused_at = 0.0
        self._connection: Connection | None = None  # the publisher thread's alone
        self._producer: Producer | None = None
        # memory:// lives in this process and cannot be away: publishing there in the caller's
        # thread spares a thread hand-over per batch (the broker-less default's hot path).
        self._inline = topology.is_memory
        self._inline_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="satupintu-publisher", daemon=True)
        if not self._inline:
            self._thread.start()

    def has_room(self, records: int) -> bool:
        """Whether :meth:`publish` would take this many more records now. If not, the caller
        leaves them to the sweeper, and the backfill publishes them as soon as there is room."""
        with self._changed:
            if self._closing:
                return False
            if self._held + records > self.max_held:
                self._refuse(records)
                return False
            return True

    def publish(self, items: Iterable[Addressed]) -> bool:
        """Hand ``(item, channel)`` pairs over for publishing; False if refused (closed, or full
        after a long outage): the sweeper then publishes them again."""
        wanted = list(items)
        return self._hand_over(_Publish(wanted, sum(len(item.ids) for item, _ in wanted)))

    def publish_dead(self, payload: dict[str, Any], step: str) -> None:
        """Tell the dead-letter queue about a message parked as dead (the row says it too)."""
        self._hand_over(_Dead(payload, step))

    def waiting(self, queue: Queue) -> int | None:
        """How many work items wait in ``queue`` (not counting those being worked on); None if
        the broker cannot say. Answered after what was handed over before, so it counts that."""
        depth = _Depth(queue)
        if self._outage is not None or not self._hand_over(depth):
            return None
        try:
            return depth.answer.result(timeout=DEPTH_TIMEOUT_SECONDS)
        except TimeoutError:
            return None

    def on_recovery(self, backfill: Backfill) -> None:
        """Once the broker is back after an outage (or takes work again after refusals), also
        publish what ``backfill`` finds: the work left to the sweeper meanwhile, at once."""
        self._backfill = backfill

    def close(self) -> None:
        """Publish what is held if the broker takes it within a grace period, then stop."""
        if self._inline:
            with self._inline_lock:
                self._drop()
            return
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join(CLOSE_GRACE_SECONDS)

    def _hand_over(self, job: _Job) -> bool:
        if self._inline:
            with self._inline_lock:
                try:
                    self._emit([job], publishing=isinstance(job, _Publish))
                except Exception as exc:  # noqa: BLE001 - the rows are committed: the sweeper publishes them
                    logger.warning("publish failed; the sweeper will publish again: %s", exc)
                    self._drop()
                    return False
            return True
        with self._changed:
            if self._closing:
                return False
            if self._held + job.size > self.max_held:
                self._refuse(job.size)
                return False
            self._jobs.append(job)
            self._held += job.size
            self._changed.notify()
            return True

    def _refuse(self, records: int) -> None:
        """Count refused records until there is room again; called holding the lock."""
        self._refused_at = time.monotonic()
        if self._outage is None:
            self._outage = _Outage(self._refused_at)
            logger.warning("publisher holds %d records; leaving the next ones to the sweeper", self._held)
        self._outage.refused += records
        if not self._jobs:  # more than the bound at once: nothing to publish first, so room now
            self._backfill_soon()

    def _backfill_soon(self) -> None:
        """Make the backfill due once the last refused rows are committed; called holding the lock."""
        if self._backfill is not None:
            self._backfill_at = self._refused_at + COMMIT_GRACE_SECONDS
            self._changed.notify()

    def _backfill_wait(self) -> float | None:
        """Seconds until the backfill is due (0 when it is), None when it is not; holding the lock."""
        if self._backfill_at is None:
            return None
        return max(0.0, self._backfill_at - time.monotonic())

    # --- the publisher thread

    def _run(self) -> None:
        failures = 0
        while True:
            with self._changed:
                while not (self._jobs or self._closing or self._backfill_wait() == 0.0):
                    self._changed.wait(self._backfill_wait())
                if self._closing and not self._jobs:
                    break
                jobs = list(self._jobs)
            if not jobs:
                self._find_left_work()
                continue
            try:
                self._send(jobs)
            except Exception as exc:  # noqa: BLE001 - any broker failure: keep the jobs, try again
                failures += 1
                self._lost(exc)
                with self._changed:
                    if self._changed.wait_for(
                        lambda: self._closing,
                        timeout=exponential(failures, RECONNECT_FIRST_SECONDS, RECONNECT_MAX_SECONDS),
                    ):
                        break
                continue
            failures = 0
            self._published(sum(job.size for job in jobs))
        self._stop()

    def _send(self, jobs: list[_Job]) -> None:
        """Publish ``jobs`` in order, taking each off the queue once the broker has it."""
        for publishing, run in groupby(jobs, key=lambda job: isinstance(job, _Publish)):
            done = list(run)
            self._emit(done, publishing=publishing)
            with self._changed:
                for _ in done:
                    self._jobs.popleft()
                self._held -= sum(job.size for job in done)

    def _emit(self, done: list[_Job], *, publishing: bool) -> None:
        """Give ``done`` (all publishes, or all others) to the broker, in order."""
        if publishing:
            for item, channel in _merged(done):
                self._ensure().publish(
                    item.to_wire(),
                    routing_key=routing_key(item, channel),
                    delivery_mode=2,
                    confirm_timeout=CONFIRM_TIMEOUT_SECONDS,
                )
        for job in done:
            if isinstance(job, _Dead):
                self._ensure().publish(
                    job.payload,
                    routing_key=f"dead.{job.step}",
                    delivery_mode=2,
                    confirm_timeout=CONFIRM_TIMEOUT_SECONDS,
                )
            elif isinstance(job, _Depth):
                job.answer.set_result(self._depth(job.queue))

    def _depth(self, queue: Queue) -> int | None:
        try:
            declared = queue.bind(self._ensure().channel).queue_declare(passive=True)
        except Exception as exc:  # noqa: BLE001 - the sweeper then treats the queue as idle
            logger.debug("cannot read the depth of %s: %s", queue.name, exc)
            self._drop()
            return None
        return int(declared.message_count)

    def _ensure(self) -> Producer:
        if self._producer is None:
            self._connection = self.topology.connection(confirm_publish=True)
            self._connection.ensure_connection(max_retries=0)  # the backoff is ours, and short
            channel = self._connection.channel()
            for queue in self.topology.all_queues(self.channels):
                queue.bind(channel).declare()
            self._producer = Producer(channel, exchange=self.topology.exchange, serializer="json")
        return self._producer

    def _lost(self, exc: Exception) -> None:
        """Keep the publishes for when the broker is back; a depth asked meanwhile is unknown."""
        self._drop()
        with self._changed:
            for job in self._jobs:
                if isinstance(job, _Depth):
                    job.answer.set_result(None)
            self._jobs = deque(job for job in self._jobs if not isinstance(job, _Depth))
            if self._outage is None:
                self._outage = _Outage(time.monotonic())
                logger.warning("broker unreachable; holding work items until it is back: %s", exc)

    def _published(self, records: int) -> None:
        with self._changed:
            outage = self._outage
            if outage is None:
                return
            outage.published += records
            if self._jobs:
                return
            self._outage = None
            self._backfill_soon()
        logger.info(
            "publisher takes work items again after %.1fs: %d records published that were held, %d left to the sweeper",
            time.monotonic() - outage.since,
            outage.published,
            outage.refused,
            extra={"held": outage.published, "refused": outage.refused},
        )

    def _find_left_work(self) -> None:
        """Run the backfill: a chunk at a time, until it finds less than a chunk."""
        assert self._backfill is not None
        with self._changed:
            room = min(BACKFILL_CHUNK, self.max_held - self._held)
            started = time.monotonic()
        try:
            found = list(self._backfill(room))
        except Exception as exc:  # noqa: BLE001 - the sweeper finds the same rows at its next round
            logger.warning("cannot look up the work left to the sweeper; it will publish it: %s", exc)
            found = []
        size = sum(len(item.ids) for item, _ in found)
        with self._changed:
            if size >= room > 0:
                self._backfill_at = time.monotonic()
            elif self._refused_at < started:  # else a refusal meanwhile made it due again
                self._backfill_at = None
            if found:
                self._jobs.append(_Publish(found, size))
                self._held += size

    def _stop(self) -> None:
        with self._changed:
            left, self._held = self._held, 0
            self._jobs.clear()
        if left:
            logger.warning("publisher stopped with %d records unpublished; the sweeper will publish them", left)
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # the connection is gone either way
                logger.debug("error closing publisher connection", exc_info=True)
        self._connection = None
        self._producer = None


def _merged(jobs: Iterable[_Job]) -> list[Addressed]:
    """The jobs' work items, merged per step, record and channel."""
    by_kind: dict[tuple[Step, Record, str], list[int]] = {}
    for job in jobs:
        if isinstance(job, _Publish):
            for item, channel in job.items:
                by_kind.setdefault((item.step, item.record, channel), []).extend(item.ids)
    return [
        addressed
        for (step, record, channel), ids in by_kind.items()
        for addressed in work_items(step, record, ((i, channel) for i in ids))
    ]
