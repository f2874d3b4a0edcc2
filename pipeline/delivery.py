"""The deliver stage: send outbox messages through their channel's outbound side.

A batch is claimed under a lease (``pipeline.send_lease_seconds``) and sent concurrently, at most
``pipeline.max_concurrent_sends`` at a time. A send, retries included, may use half the lease; each
outcome is written as soon as it is known, guarded by the lease token (``pipeline/outcomes.py``),
so the sweeper never sends a slow message a second time beside the first. Transient failures are
retried at once with backoff, then again later through the sweeper, never before the provider's
``retry_after``; a permanent failure, or one that keeps failing, is parked as dead with the reason
and the provider's code. A refusal that says the whole channel is down (an expired token) turns
the channel's send health red (``connector_state`` ``send:health``) until its next success. Error
text is redacted (``pipeline.logs.redact``) before it is stored: an officer reads it, and an SMTP
refusal quotes the reporter's address. "sent" is recorded only when the provider accepted the
message, with the provider's id, and any delivery status that arrived for that id before our
commit is applied with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, select

from config.settings import ReplyRoute
from connectors.base import Connector, Outbound, PermanentSendError, SendResult, TransientSendError
from envelopes import OutboundMessage, WorkItem
from pipeline.logs import MAX_REASON, reason, redact
from pipeline.outcomes import OutcomeWriter
from pipeline.queues import Publisher
from pipeline.stage import TRANSIENT_DB_ERRORS
from storage import outbox
from storage.cases import record_events
from storage.db import transaction, utcnow
from storage.delivery import apply_statuses
from storage.models import OUTBOX_DEAD, OUTBOX_SENT
from storage.state import state_get, state_set
from storage.tables import STATE
from triage.replies import OtherWays, ReplyPolicy

logger = logging.getLogger(__name__)

OUTCOME_NAMES = {OUTBOX_SENT: "sent", OUTBOX_DEAD: "dead"}
"""An outbox state after a send, as a metrics outcome; a row back to pending is a "retry"."""
IMMEDIATE_ATTEMPTS = 3
FIRST_RETRY_WAIT_SECONDS = 0.2
MAX_IMMEDIATE_WAIT_SECONDS = 2.0
"""A provider asking for a longer wait (``retry_after``) is tried again later, not within the send."""
SEND_TIMEOUT_SECONDS = 20.0
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
SEND_SHARE_OF_LEASE = 0.5
"""The part of its lease a send may take, retries included; the rest is for writing the outcome."""
DEFAULT_SEND_LEASE = timedelta(seconds=130)
"""``pipeline.send_lease_seconds``' default: a little over twice the longest send (three attempts
of ``SEND_TIMEOUT_SECONDS`` with their backoff)."""
DEFAULT_MAX_CONCURRENT_SENDS = 20
"""``pipeline.max_concurrent_sends``' default: a batch of 200 must not open 200 SMTP connections."""
SEND_HEALTH_KEY = "send:health"
"""A channel's sending health in ``connector_state``: not ``health:<source>``, the pull loops' keys."""

SendState = Literal["ok", "down"]


@dataclass(frozen=True, slots=True)
class Sent:
    """One send's outcome, with the provider's refusal when it refused for good."""

    claim: outbox.Claimed
    outcome: outbox.Outcome
    refusal: PermanentSendError | None = None
    detail: Mapping[str, Any] | None = None
    """What the connector said of an accepted send (``SendResult.detail``), for the case event."""


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
        max_concurrent_sends: int = DEFAULT_MAX_CONCURRENT_SENDS,
        fallback: Sequence[ReplyRoute] | None = None,
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.connectors = connectors
        self.max_attempts = max_attempts
        self.send_lease = send_lease
        self.max_concurrent_sends = max_concurrent_sends
        self.other_ways = None if fallback is None else other_ways_of(connectors, fallback)
        """The other ways offered on a case whose reply failed for good (``reachable`` in its
        ``*_failed`` event): ``[replies] fallback`` over the channels that can send."""
        self._health = SendHealth()
        self._claims_in_doubt: set[str] = set()
        """Lease tokens of claims whose transaction failed with the database: it may have committed
        them, leaving rows held by a lease nobody sends under. The next claim releases them."""
        self._loop = asyncio.new_event_loop()
        self._on_own_loop(self._start())

    def _on_own_loop(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` to the end on the stage's loop, from a thread of its own: the stage may be
        made, and closed, inside a running loop (the process's), where this one cannot run."""
        with ThreadPoolExecutor(1) as thread:
            thread.submit(self._loop.run_until_complete, work).result()

    async def _start(self) -> None:
        """Connectors start with the stage, so that what they say at start-up (a channel
        half-configured) is said when ``worker deliver`` starts, not at its first send."""
        for connector in self.connectors.values():
            await connector.start()

    def handle(self, items: Sequence[WorkItem]) -> dict[str, int]:
        """Send the batch; returns how many messages ended how (for the metrics)."""
        ids = sorted({i for item in items if item.record == "outbox" for i in item.ids})
        token = outbox.new_lease_token()
        try:
            with transaction(self.engine) as connection:
                if self._claims_in_doubt:
                    ids = sorted({*ids, *outbox.release(connection, sorted(self._claims_in_doubt))})
                claimed = outbox.claim(connection, ids, self.send_lease, token)
        except TRANSIENT_DB_ERRORS:
            self._claims_in_doubt.add(token)
            raise
        self._claims_in_doubt.clear()
        if not claimed:
            return {}
        written = self._loop.run_until_complete(self._deliver(claimed))
        sent = [w.claim.message for w in written if w.outcome.state == OUTBOX_SENT]
        if sent:
            logger.info(
                "sent", extra={"outbox_ids": [m.outbox_id for m in sent], "case_ids": [m.case_id for m in sent]}
            )
        for w in written:
            if w.outcome.state == OUTBOX_DEAD:
                notice = {"record": "outbox", "id": w.claim.message.outbox_id, "reason": w.outcome.error}
                self.publisher.publish_dead(notice, self.step)
        return dict(Counter(OUTCOME_NAMES.get(w.outcome.state, "retry") for w in written))

    async def _deliver(self, claimed: Sequence[outbox.Claimed]) -> list[Sent]:
        """Send the claimed messages, ``max_concurrent_sends`` at a time; each outcome is written
        as it comes. A send still waiting for its turn at the deadline is retried later."""
        writer = OutcomeWriter(self._write, until=min(c.lease_expires_at for c in claimed), expected=len(claimed))
        deadline = asyncio.get_running_loop().time() + self.send_lease.total_seconds() * SEND_SHARE_OF_LEASE
        turns = asyncio.Semaphore(self.max_concurrent_sends)

        async def send(claim: outbox.Claimed) -> None:
            async with turns:
                writer.add(await self._send_one(claim, deadline))

        await asyncio.gather(*(send(c) for c in claimed))
        await writer.finish()
        return writer.written

    def _write(self, group: list[Sent]) -> list[Sent]:
        """One short transaction for the outcomes that came together; only those still under
        their lease are written, with their case events, any status that came first, and the
        channels' send health when it changes."""
        with transaction(self.engine) as connection:
            ours = {o.outbox_id for o in outbox.record_outcomes(connection, [w.outcome for w in group])}
            written = [w for w in group if w.outcome.outbox_id in ours]
            record_events(
                connection, [_event(w, self._reachable(connection, w)) for w in written if w.claim.message.case_id]
            )
            apply_statuses(
                connection,
                [
                    (w.claim.message.channel, w.outcome.provider_message_id)
                    for w in written
                    if w.outcome.provider_message_id
                ],
                self.other_ways,
            )
            health = self._health.write_changes(connection, written)
        self._health.committed(health)
        return written

    def _reachable(self, connection: Connection, sent: Sent) -> list[dict[str, str]] | None:
        """For a reply that failed for good, the reporter's other ways; None for any other outcome."""
        message = sent.claim.message
        if self.other_ways is None or sent.outcome.state != OUTBOX_DEAD or message.case_id is None:
            return None
        down = sent.refusal is not None and sent.refusal.channel_down
        return self.other_ways(connection, message.case_id, message.channel, message.recipient, down)

    async def _send_one(self, claim: outbox.Claimed, deadline: float) -> Sent:
        message = claim.message
        connector = self.connectors.get(message.channel)
        if not isinstance(connector, Outbound):
            missing = "is enabled" if connector is None else "that can send is enabled"
            return Sent(claim, outbox.dead(claim, f"no connector {message.channel!r} {missing}"))
        log = {"channel": message.channel, "outbox_id": message.outbox_id, "case_id": message.case_id}
        try:
            result = await _send_with_retries(connector, message, deadline)
        except PermanentSendError as exc:
            why = f"permanent{f' ({exc.code})' if exc.code else ''}: {redact(str(exc))}"[:MAX_REASON]
            logger.warning("outbound message refused for good: %s", why, extra=log)
            return Sent(claim, outbox.dead(claim, why), exc)
        except Exception as exc:  # noqa: BLE001 - transient, timeouts and surprises are retried later
            why = reason(exc)
            if claim.attempts >= self.max_attempts:
                logger.error("outbound message failed %d times: %s", claim.attempts, why, extra=log)
                return Sent(claim, outbox.dead(claim, f"gave up after {claim.attempts} attempts: {why}"))
            delay = min(RETRY_CAP, RETRY_BASE * 2 ** (claim.attempts - 1))
            if isinstance(exc, TransientSendError) and exc.retry_after is not None:
                delay = max(delay, timedelta(seconds=exc.retry_after))
            logger.warning("outbound message failed, retrying in %s: %s", delay, why, extra=log)
            return Sent(claim, outbox.retry_later(claim, why, delay))
        return Sent(claim, outbox.sent(claim, result.provider_message_id), detail=result.detail)

    def close(self) -> None:
        self._on_own_loop(self._stop())
        self._loop.close()

    async def _stop(self) -> None:
        for connector in self.connectors.values():
            await connector.stop()
        await asyncio.get_running_loop().shutdown_default_executor()  # the outcome writers' threads


class SendHealth:
    """Each channel's send health, ``{"state": "down"|"ok", "reason": ..., "at": ...}`` under
    ``send:health``: down when a refusal says no message on the channel can go, ok again at its
    next success. Written only when it changes as this process knows it, so a send pays nothing
    (a channel's first success reads it once, in case another process or run left it down)."""

    def __init__(self) -> None:
        self._known: dict[str, SendState] = {}

    def write_changes(self, connection: Connection, written: Sequence[Sent]) -> dict[str, SendState]:
        """Write what ``written`` changes; returns it, for ``committed`` once the transaction is."""
        latest: dict[str, tuple[SendState, str | None]] = {}
        for w in written:
            if w.refusal is not None and w.refusal.channel_down:
                latest[w.claim.message.channel] = ("down", w.outcome.error)
            elif w.outcome.state == OUTBOX_SENT:
                latest[w.claim.message.channel] = ("ok", None)
        changed: dict[str, SendState] = {}
        for channel, (state, why) in latest.items():
            if state == self._known.get(channel) or (state == "ok" and not _is_down(connection, channel)):
                self._known[channel] = state
                continue
            record: dict[str, Any] = {"state": state, "at": utcnow().isoformat()}
            if why is not None:
                record["reason"] = why
            state_set(connection, channel, SEND_HEALTH_KEY, json.dumps(record))
            changed[channel] = state
        return changed

    def committed(self, changed: Mapping[str, SendState]) -> None:
        self._known.update(changed)


def _is_down(connection: Connection, channel: str) -> bool:
    stored = state_get(connection, channel, SEND_HEALTH_KEY)
    return stored is not None and json.loads(stored)["state"] == "down"


def other_ways_of(connectors: Mapping[str, Connector[Any]], fallback: Sequence[ReplyRoute]) -> OtherWays:
    """``[replies] fallback`` over the enabled ``connectors`` that can send."""
    return OtherWays(ReplyPolicy(frozenset(n for n, c in connectors.items() if isinstance(c, Outbound)), fallback))


def read_send_health(connection: Connection) -> list[dict[str, Any]]:
    """Every channel's send health as last written, for ``satupintu status``."""
    rows = connection.execute(
        select(STATE.c.channel, STATE.c.value).where(STATE.c.key == SEND_HEALTH_KEY).order_by(STATE.c.channel)
    )
    return [{"channel": row.channel, **json.loads(row.value)} for row in rows]


async def _send_with_retries(connector: Outbound, message: OutboundMessage, deadline: float) -> SendResult:
    """Send; on a transient error, retry at once with backoff a few times, waiting at least the
    provider's ``retry_after``; a longer ``retry_after``, or a wait past ``deadline`` (the loop's
    clock), is left to the retry later. Each attempt may take ``SEND_TIMEOUT_SECONDS``, and none
    runs past ``deadline``: one timer per attempt, however the two bounds fall."""
    loop = asyncio.get_running_loop()
    for attempt in range(1, IMMEDIATE_ATTEMPTS + 1):
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + SEND_TIMEOUT_SECONDS)):
                return await connector.send(message)
        except TransientSendError as exc:
            wait = FIRST_RETRY_WAIT_SECONDS * 2 ** (attempt - 1) + random.uniform(0, FIRST_RETRY_WAIT_SECONDS)
            wait = max(wait, exc.retry_after or 0.0)
            if attempt == IMMEDIATE_ATTEMPTS or wait > MAX_IMMEDIATE_WAIT_SECONDS or loop.time() + wait >= deadline:
                raise
            await asyncio.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _event(sent: Sent, reachable: list[dict[str, str]] | None = None) -> dict[str, Any]:
    claim, outcome = sent.claim, sent.outcome
    message = claim.message
    action = {OUTBOX_SENT: f"{message.purpose}_sent", OUTBOX_DEAD: f"{message.purpose}_failed"}.get(
        outcome.state, f"{message.purpose}_retry"
    )
    detail: dict[str, Any] = {"channel": message.channel, "outbox_id": message.outbox_id, "attempt": claim.attempts}
    if outcome.provider_message_id:
        detail["provider_message_id"] = outcome.provider_message_id
    if outcome.error:
        detail["error"] = outcome.error[:500]
    if sent.refusal is not None and sent.refusal.code:
        detail["code"] = sent.refusal.code
    if sent.detail:
        detail = {**sent.detail, **detail}
    if reachable is not None:  # a reply that failed for good: where the officer may reach them instead
        detail["reachable"] = reachable
    return {"case_id": message.case_id, "actor": "system:deliver", "action": action, "detail": detail}
