"""The deliver stage: send outbox messages through their channel's outbound side.

A batch is claimed under a lease (``pipeline.send_lease_seconds``) and sent concurrently. A send,
retries included, may use half the lease; each outcome is written as soon as it is known, guarded
by the lease token (``pipeline/outcomes.py``), so the sweeper never sends a slow message a second
time beside the first. Transient failures are retried at once with backoff (tenacity), then again
later through the sweeper; a permanent failure, or one that keeps failing, is parked as dead with
the reason. "sent" is recorded only when the provider accepted the message, with the provider's
id, and any delivery status that arrived for that id before our commit is applied with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from connectors.base import Connector, Outbound, PermanentSendError, SendResult, TransientSendError
from envelopes import OutboundMessage, WorkItem
from pipeline.outcomes import OutcomeWriter
from pipeline.queues import Publisher
from storage import outbox
from storage.cases import record_events
from storage.db import transaction
from storage.delivery import apply_statuses
from storage.models import OUTBOX_DEAD, OUTBOX_SENT

logger = logging.getLogger(__name__)

OUTCOME_NAMES = {OUTBOX_SENT: "sent", OUTBOX_DEAD: "dead"}
"""An outbox state after a send, as a metrics outcome; a row back to pending is a "retry"."""
IMMEDIATE_ATTEMPTS = 3
FIRST_RETRY_WAIT_SECONDS = 0.2
SEND_TIMEOUT_SECONDS = 20.0
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
SEND_SHARE_OF_LEASE = 0.5
"""The part of its lease a send may take, retries included; the rest is for writing the outcome."""
DEFAULT_SEND_LEASE = timedelta(seconds=130)
"""``pipeline.send_lease_seconds``' default: a little over twice the longest send (three attempts
of ``SEND_TIMEOUT_SECONDS`` with their backoff)."""

Sent = tuple[outbox.Claimed, outbox.Outcome]


class DeliveryStage:
    """Sends claimed outbox messages; owns an event loop for the connectors' async clients."""

    step = "deliver"

    def __init__(
        self,
        engine: Engine,
        publisher: Publisher,
        connectors: Mapping[str, Connector[Any]],
        *,
        max_attempts: int,
        send_lease: timedelta = DEFAULT_SEND_LEASE,
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.connectors = connectors
        self.max_attempts = max_attempts
        self.send_lease = send_lease
        self._loop = asyncio.new_event_loop()
        self._started = False

    def handle(self, items: Sequence[WorkItem]) -> dict[str, int]:
        """Send the batch; returns how many messages ended how (for the metrics)."""
        ids = sorted({i for item in items if item.record == "outbox" for i in item.ids})
        with transaction(self.engine) as connection:
            claimed = outbox.claim(connection, ids, self.send_lease)
        if not claimed:
            return {}
        written = self._loop.run_until_complete(self._deliver(claimed))
        sent = [c.message for c, o in written if o.state == OUTBOX_SENT]
        if sent:
            logger.info(
                "sent", extra={"outbox_ids": [m.outbox_id for m in sent], "case_ids": [m.case_id for m in sent]}
            )
        for claim, outcome in written:
            if outcome.state == OUTBOX_DEAD:
                notice = {"record": "outbox", "id": claim.message.outbox_id, "reason": outcome.error}
                self.publisher.publish_dead(notice, self.step)
        return dict(Counter(OUTCOME_NAMES.get(o.state, "retry") for _, o in written))

    async def _deliver(self, claimed: Sequence[outbox.Claimed]) -> list[Sent]:
        """Send every claimed message at once; each outcome is written as it comes."""
        if not self._started:
            for connector in self.connectors.values():
                await connector.start()
            self._started = True
        writer = OutcomeWriter(self._write, until=min(c.lease_expires_at for c in claimed))
        deadline = asyncio.get_running_loop().time() + self.send_lease.total_seconds() * SEND_SHARE_OF_LEASE

        async def send(claim: outbox.Claimed) -> None:
            writer.add((claim, await self._send_one(claim, deadline)))

        await asyncio.gather(*(send(c) for c in claimed))
        await writer.finish()
        return writer.written

    def _write(self, group: list[Sent]) -> list[Sent]:
        """One short transaction for the outcomes that came together; only those still under
        their lease are written, with their case events and any status that came first."""
        with transaction(self.engine) as connection:
            ours = {o.outbox_id for o in outbox.record_outcomes(connection, [o for _, o in group])}
            written = [(c, o) for c, o in group if o.outbox_id in ours]
            record_events(connection, [_event(c, o) for c, o in written])
            apply_statuses(
                connection,
                [(c.message.channel, o.provider_message_id) for c, o in written if o.provider_message_id],
            )
        return written

    async def _send_one(self, claim: outbox.Claimed, deadline: float) -> outbox.Outcome:
        message = claim.message
        connector = self.connectors.get(message.channel)
        if not isinstance(connector, Outbound):
            reason = "is enabled" if connector is None else "that can send is enabled"
            return outbox.dead(claim, f"no connector {message.channel!r} {reason}")
        log = {"channel": message.channel, "outbox_id": message.outbox_id, "case_id": message.case_id}
        try:
            async with asyncio.timeout_at(deadline):
                result = await _send_with_retries(connector, message)
        except PermanentSendError as exc:
            logger.warning("outbound message refused for good: %s", exc, extra=log)
            return outbox.dead(claim, f"permanent: {exc}")
        except Exception as exc:  # noqa: BLE001 - transient, timeouts and surprises are retried later
            if claim.attempts >= self.max_attempts:
                logger.error("outbound message failed %d times: %s", claim.attempts, exc, extra=log)
                return outbox.dead(claim, f"gave up after {claim.attempts} attempts: {exc!r}")
            delay = min(RETRY_CAP, RETRY_BASE * 2 ** (claim.attempts - 1))
            logger.warning("outbound message failed, retrying in %s: %s", delay, exc, extra=log)
            return outbox.retry_later(claim, repr(exc), delay)
        return outbox.sent(claim, result.provider_message_id)

    def close(self) -> None:
        if self._started:
            for connector in self.connectors.values():
                self._loop.run_until_complete(connector.stop())
        self._loop.run_until_complete(self._loop.shutdown_default_executor())  # the outcome writers' threads
        self._loop.close()


async def _send_with_retries(connector: Outbound, message: OutboundMessage) -> SendResult:
    """Send; on a transient error, retry at once with backoff (tenacity) a few times."""
    try:
        return await _attempt(connector, message)  # most sends succeed: no retry machinery for them
    except TransientSendError:
        await asyncio.sleep(FIRST_RETRY_WAIT_SECONDS)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(TransientSendError),
        stop=stop_after_attempt(IMMEDIATE_ATTEMPTS - 1),
        wait=wait_exponential_jitter(multiplier=FIRST_RETRY_WAIT_SECONDS * 2, max=2.0, jitter=FIRST_RETRY_WAIT_SECONDS),
        reraise=True,
    ):
        with attempt:
            return await _attempt(connector, message)
    raise AssertionError("unreachable: tenacity re-raises the last error")


async def _attempt(connector: Outbound, message: OutboundMessage) -> SendResult:
    async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
        return await connector.send(message)


def _event(claim: outbox.Claimed, outcome: outbox.Outcome) -> dict[str, Any]:
    message = claim.message
    action = {OUTBOX_SENT: f"{message.purpose}_sent", OUTBOX_DEAD: f"{message.purpose}_failed"}.get(
        outcome.state, f"{message.purpose}_retry"
    )
    detail: dict[str, Any] = {"channel": message.channel, "outbox_id": message.outbox_id, "attempt": claim.attempts}
    if outcome.provider_message_id:
        detail["provider_message_id"] = outcome.provider_message_id
    if outcome.error:
        detail["error"] = outcome.error[:500]
    return {"case_id": message.case_id, "actor": "system:deliver", "action": action, "detail": detail}
