"""Pull loops: one per source of every pull connector, in exactly one process at a time.

Several ``worker http`` processes may run for the webhooks; a mailbox read by two of them would be
read twice and its cursor moved by both. So each source runs under a lease (``storage/leases.py``):
the process holding it fetches, the others stand by and take over when it lapses. A page is stored
first (``ingest.accept``), then the cursor moves, in a transaction that renews the lease first: a
crash in between fetches the page again (the idempotency key makes that harmless), and a process
that lost its lease writes nothing. A failure of any kind is logged once per streak and the loop
tries again with backoff; it never dies silently. Each loop's health is kept in
``connector_state`` (``health:<source>``), so any process and the command line can read it.
``PullLoop.once`` is the same loop run until the source is drained, for ``satupintu pull --once``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, select
from sqlalchemy.exc import SQLAlchemyError

from config.settings import PullSettings
from connectors.base import (
    AnomalousPayload,
    Connector,
    ConnectorAuthFailed,
    ConnectorNotReady,
    FetchResult,
    Ingest,
    PullInbound,
    RawMessage,
    UnsupportedEvent,
)
from pipeline.backoff import exponential, pause
from pipeline.logs import reason
from storage import leases
from storage.db import reading, transaction, utcnow
from storage.models import RAW_RECEIVED
from storage.raw import mark_dead
from storage.state import state_get, state_set
from storage.tables import STATE

logger = logging.getLogger(__name__)

MIN_BACKOFF_SECONDS = 0.5
"""First wait after a failure when the connector polls faster than this (or long-polls)."""
CANCEL_GRACE_SECONDS = 5.0
"""How long a cancelled fetch may take to unwind before the loop stops waiting for it."""
HEALTH_PREFIX = "health:"
CURSOR_PREFIX = "cursor:"

T = TypeVar("T")
PullState = Literal["starting", "ok", "failing", "auth_failed"]


class LeaseLost(Exception):
    """The lease lapsed or another process took it: stop fetching, write nothing."""


def lease_name(channel: str, source: str) -> str:
    return f"pull:{channel}:{source}"


@dataclass(frozen=True, slots=True)
class PullHealth:
    """How one pull source is doing, as its holder last wrote it."""

    channel: str
    source: str
    state: PullState = "starting"
    """auth_failed is red: the channel refused our credentials and the loop waits long between tries."""
    reported_by: str | None = None
    holder: str | None = None
    """The live lease's holder when read; None when no process runs the loop."""
    last_success_at: datetime | None = None
    behind: int | None = None
    """Messages the source still held after the last page, when it can tell."""
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0
    """Failures in a row; 0 once a fetch succeeds again."""
    updated_at: datetime | None = None

    def to_json(self) -> str:
        kept = {k: v for k, v in asdict(self).items() if k not in {"channel", "source", "holder"}}
        return json.dumps({k: v.isoformat() if isinstance(v, datetime) else v for k, v in kept.items()})

    @classmethod
    def from_json(cls, channel: str, source: str, text: str, holder: str | None) -> PullHealth:
        data: dict[str, Any] = json.loads(text)
        for key in ("last_success_at", "last_error_at", "updated_at"):
            if data.get(key):
                data[key] = datetime.fromisoformat(data[key])
        return cls(channel=channel, source=source, holder=holder, **data)


def read_health(connection: Connection, channel: str | None = None) -> list[PullHealth]:
    """Every pull source's health (of one channel, or all), with who holds its lease now."""
    condition = STATE.c.key.startswith(HEALTH_PREFIX)
    if channel is not None:
        condition = and_(condition, STATE.c.channel == channel)
    rows = connection.execute(
        select(STATE.c.channel, STATE.c.key, STATE.c.value).where(condition).order_by(STATE.c.channel, STATE.c.key)
    ).all()
    found = []
    for row in rows:
        source = row.key.removeprefix(HEALTH_PREFIX)
        live = leases.holder(connection, lease_name(row.channel, source))
        found.append(PullHealth.from_json(row.channel, source, row.value, live.holder if live else None))
    return found


class PullLoop:
    """One source of one pull connector: take the lease, fetch, store, move the cursor, repeat."""

    def __init__(
        self,
        channel: str,
        connector: PullInbound,
        source: str,
        ingest: Ingest,
        engine: Engine,
        settings: PullSettings,
        holder: str | None = None,
    ) -> None:
        self.channel = channel
        self.connector = connector
        self.source = source
        self.ingest = ingest
        self.engine = engine
        self.ttl = settings.lease_seconds
        self.max_backoff = settings.max_backoff_seconds
        self.holder = holder or leases.this_process()
        self.lease = lease_name(channel, source)
        self.log = {"channel": channel, "source": source}
        connector.use_ingest(ingest)

    @property
    def name(self) -> str:
        return f"pull-{self.channel}-{self.source}"

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``, whatever fails: a failure the loop did not expect (a bug, a library's
        surprise) is logged with its traceback and the loop starts again after a backoff, so that a
        source is never left unread by a task that ended in silence."""
        crashes = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                await self._run(stop)
            except Exception:
                ran_a_while = time.monotonic() - started >= self.max_backoff
                crashes = 1 if ran_a_while else crashes + 1
                delay = exponential(crashes, MIN_BACKOFF_SECONDS, self.max_backoff)
                logger.exception("pull loop failed; restarting in %g s", delay, extra=self.log)
                await pause(delay, stop)

    async def _run(self, stop: asyncio.Event) -> None:
        """Stand by while another process holds the lease, run the loop while we do."""
        said = ""  # why we stand by, said once until it changes
        while not stop.is_set():
            try:
                token = await self._db(leases.acquire, self.lease, self.holder, self.ttl)
                why = "pull source held by another process; standing by"
            except SQLAlchemyError as exc:
                token, why = None, f"pull lease unavailable: {reason(exc)}"
            if token is None:
                if why != said:
                    logger.info(why, extra=self.log)
                    said = why
                await pause(self.ttl / 3, stop)
                continue
            said = ""
            logger.info("pull lease taken", extra={**self.log, "holder": self.holder})
            await self._hold(token, stop)

    async def _hold(self, token: str, stop: asyncio.Event) -> None:
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._keep(token, lost), name=f"{self.name}-lease")
        try:
            await self._pull(token, stop, lost)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if not lost.is_set():
                with contextlib.suppress(SQLAlchemyError):  # unreleased, it lapses after the ttl
                    await self._db(leases.release, self.lease, token)

    async def _keep(self, token: str, lost: asyncio.Event) -> None:
        """Renew every third of the ttl; the lease is lost when refused, or when the database stays
        out of reach until it would have lapsed."""
        lapses_at = time.monotonic() + self.ttl
        while True:
            await asyncio.sleep(max(0.0, min(self.ttl / 3, lapses_at - time.monotonic())))
            asked_at = time.monotonic()
            try:
                renewed: bool | None = await self._db(leases.renew, self.lease, token, self.ttl)
            except Exception:  # noqa: BLE001 - not renewed, whatever the reason; the lapse decides
                renewed = None
            if renewed:
                lapses_at = asked_at + self.ttl
            elif renewed is False or time.monotonic() >= lapses_at:
                logger.warning("pull lease lost; this process stops fetching", extra=self.log)
                lost.set()
                return

    async def _pull(self, token: str, stop: asyncio.Event, lost: asyncio.Event) -> None:
        health = PullHealth(self.channel, self.source, reported_by=self.holder)
        cursor: str | None = None
        fresh = True
        while not (stop.is_set() or lost.is_set()):
            try:
                if fresh:  # another holder may have moved it while we stood by or failed
                    cursor = await self._db(state_get, self.channel, CURSOR_PREFIX + self.source)
                    fresh = False
                page = await _until(self.connector.fetch(self.source, cursor), stop, lost)
                if page is None:
                    return
                if page.messages:
                    await self.ingest.accept(page.messages)
                moved = page.next_cursor if page.next_cursor not in {None, cursor} else None
                if health.failures:
                    logger.info("pull source works again", extra={**self.log, "failures": health.failures})
                health = _succeeded(health, page)
                await self._commit(token, moved, health)
                cursor = moved or cursor
                if not page.more:
                    await pause(self.connector.poll_interval_seconds, stop, lost)
            except LeaseLost:
                logger.warning("pull lease lost before the cursor was written", extra=self.log)
                lost.set()
            except Exception as exc:  # noqa: BLE001 - any failure restarts the loop after a pause
                health = _failed(health, exc)
                self._log_failure(health, exc)
                try:
                    await self._commit(token, None, health)
                except LeaseLost:
                    lost.set()
                except Exception:  # noqa: BLE001 - the database may be what failed; the log said so
                    pass
                fresh = True
                await pause(self._backoff(health, exc), stop, lost)

    def _log_failure(self, health: PullHealth, exc: Exception) -> None:
        """Once per streak: the first failure is logged, the rest show in the health."""
        if health.failures > 1:
            logger.debug("pull still failing: %s", health.last_error, extra=self.log)
        elif isinstance(exc, ConnectorAuthFailed):
            logger.error(
                "pull credentials refused; retrying in %g s: %s", self.max_backoff, health.last_error, extra=self.log
            )
        else:
            logger.warning("pull failed; retrying with backoff: %s", health.last_error, extra=self.log)

    def _backoff(self, health: PullHealth, exc: Exception) -> float:
        """The next try after a failure: the backoff, never sooner than the channel asked."""
        if isinstance(exc, ConnectorAuthFailed):
            return self.max_backoff
        first = max(MIN_BACKOFF_SECONDS, self.connector.poll_interval_seconds)
        backoff = exponential(health.failures, first, self.max_backoff)
        if isinstance(exc, ConnectorNotReady) and exc.retry_after:
            return max(backoff, exc.retry_after)
        return backoff

    async def once(self, dead: DeadCheck | None = None) -> OnceReport:
        """Everything new now, then return (``satupintu pull --once``): the daemon's lease, the same
        store-then-move-the-cursor order, and a report. The connector is told not to wait
        (``may_wait``). ``dead`` names why a newly stored message will be parked as dead (its
        parser refuses it); such a message is parked at once, so the report can say so.

        Raises :class:`LeaseHeld` while another process holds the source."""
        token = await self._db(leases.acquire, self.lease, self.holder, self.ttl)
        if token is None:
            live = await self._db(leases.holder, self.lease)
            raise LeaseHeld(self.source, live.holder if live else "another process")
        self.connector.may_wait = False
        report = OnceReport(self.source)
        health = PullHealth(self.channel, self.source, reported_by=self.holder)
        try:
            cursor = await self._db(state_get, self.channel, CURSOR_PREFIX + self.source)
            while True:
                page = await self.connector.fetch(self.source, cursor)
                stored = await self.ingest.accept(page.messages) if page.messages else []
                report.fetched += len(page.messages)
                report.stored += sum(1 for s in stored if s.created)
                report.already_stored += sum(1 for s in stored if not s.created)
                fresh = [(s.id, m) for s, m in zip(stored, page.messages, strict=True) if s.created]
                report.dead += await self._park_dead(fresh, dead)
                moved = page.next_cursor if page.next_cursor not in {None, cursor} else None
                health = _succeeded(health, page)
                await self._commit(token, moved, health)
                if not page.messages or not page.more or moved is None:
                    return report
                cursor = moved
        except (ConnectorNotReady, ConnectorAuthFailed) as exc:
            report.error = reason(exc)
            with contextlib.suppress(Exception):  # the report says it; the health is a courtesy
                await self._commit(token, None, _failed(health, exc))
            return report
        finally:
            with contextlib.suppress(SQLAlchemyError):
                await self._db(leases.release, self.lease, token)

    async def _park_dead(self, fresh: list[tuple[int, RawMessage]], dead: DeadCheck | None) -> list[DeadMessage]:
        found = [DeadMessage(raw_id, why) for raw_id, raw in fresh if dead and (why := dead(raw_id, raw))]

        def park() -> None:
            with transaction(self.engine) as connection:
                for item in found:
                    mark_dead(connection, item.raw_message_id, item.reason, RAW_RECEIVED)

        if found:
            await asyncio.to_thread(park)
        return found

    async def _commit(self, token: str, cursor: str | None, health: PullHealth) -> None:
        """Move the cursor and write the health, under the lease (compare-and-set)."""

        def write() -> None:
            with transaction(self.engine) as connection:
                if not leases.renew(connection, self.lease, token, self.ttl):
                    raise LeaseLost(self.lease)
                if cursor is not None:
                    state_set(connection, self.channel, CURSOR_PREFIX + self.source, cursor)
                state_set(connection, self.channel, HEALTH_PREFIX + self.source, health.to_json())

        await asyncio.to_thread(write)

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            with transaction(self.engine) as connection:
                return function(connection, *args)

        return await asyncio.to_thread(run)


class LeaseHeld(Exception):
    """``pull --once`` found the source run by another process (a daemon)."""

    def __init__(self, source: str, holder: str) -> None:
        super().__init__(f"{source} is being pulled by {holder}")
        self.source = source
        self.holder = holder


@dataclass(frozen=True, slots=True)
class DeadMessage:
    raw_message_id: int
    reason: str


DeadCheck = Callable[[int, RawMessage], str | None]
"""Why a stored message can never be parsed (it will be parked as dead), or None."""


@dataclass(slots=True)
class OnceReport:
    """What one ``pull --once`` of one source did."""

    source: str
    fetched: int = 0
    stored: int = 0
    already_stored: int = 0
    dead: list[DeadMessage] = field(default_factory=list)
    error: str | None = None
    """Why the source could not be read (unreachable, credentials refused)."""


def parse_failure(connector: Connector[Any]) -> DeadCheck:
    """The check :meth:`PullLoop.once` parks messages by: the reason the normalizer would park a
    message with (``normalizer/stage.py``) when the connector's parser refuses it."""

    def check(raw_id: int, raw: RawMessage) -> str | None:
        try:
            connector.parse(raw_id, raw)
        except UnsupportedEvent:
            return None
        except (AnomalousPayload, ValidationError, ValueError) as exc:
            return f"normalize: {type(exc).__name__}: {exc}"
        return None

    return check


def _succeeded(health: PullHealth, page: FetchResult) -> PullHealth:
    now = utcnow()
    return replace(health, state="ok", last_success_at=now, behind=page.behind, failures=0, updated_at=now)


def _failed(health: PullHealth, exc: Exception) -> PullHealth:
    now = utcnow()
    state: PullState = "auth_failed" if isinstance(exc, ConnectorAuthFailed) else "failing"
    return replace(
        health, state=state, last_error=reason(exc), last_error_at=now, failures=health.failures + 1, updated_at=now
    )


async def _until(fetch: Awaitable[FetchResult], *events: asyncio.Event) -> FetchResult | None:
    """The fetch's page, or None as soon as one of ``events`` is set: a long poll or IDLE is then
    cancelled, and given ``CANCEL_GRACE_SECONDS`` to unwind."""
    task = asyncio.ensure_future(fetch)
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait([task, *waiters], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=CANCEL_GRACE_SECONDS)
    if task.cancelled() or not task.done():
        return None
    return task.result()


def pull_loops(
    connectors: Mapping[str, Connector[Any]], ingest: Ingest, engine: Engine, settings: PullSettings
) -> list[PullLoop]:
    """A loop for every source of every pull connector among ``connectors``."""
    return [
        PullLoop(name, connector, source, ingest, engine, settings)
        for name, connector in connectors.items()
        if isinstance(connector, PullInbound)
        for source in connector.pull_sources()
    ]


class PullHealthCollector(Collector):
    """``satupintu_pull_*{channel, source}`` gauges, read from the database when scraped, so every
    process reports every loop whichever process runs it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            with reading(self.engine) as connection:
                found = read_health(connection)
        except SQLAlchemyError:
            return
        labels = ["channel", "source"]
        success = GaugeMetricFamily(
            "satupintu_pull_last_success_timestamp_seconds", "When the loop last fetched a page", labels=labels
        )
        behind = GaugeMetricFamily("satupintu_pull_behind", "Messages the source still held after it", labels=labels)
        failures = GaugeMetricFamily("satupintu_pull_failures", "Failures in a row (0 when working)", labels=labels)
        held = GaugeMetricFamily("satupintu_pull_held", "1 while a process holds the loop's lease", labels=labels)
        for health in found:
            key = [health.channel, health.source]
            if health.last_success_at is not None:
                success.add_metric(key, health.last_success_at.timestamp())
            if health.behind is not None:
                behind.add_metric(key, health.behind)
            failures.add_metric(key, health.failures)
            held.add_metric(key, 1 if health.holder else 0)
        yield from (success, behind, failures, held)
