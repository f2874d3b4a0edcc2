"""What a send error carries is acted on: the provider's wait, its code, a channel that is down;
error text is stored redacted; sends are capped; connectors start with the stage."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from config.settings import Settings
from connectors.base import ConnectorConfig, OutboundMessage, PermanentSendError, SendResult, TransientSendError
from connectors.webform.connector import _say_email_receipts_are_off
from envelopes import WorkItem
from pipeline.delivery import DeliveryStage
from pipeline.queues import Publisher, Topology
from storage.state import state_get
from storage.tables import EVENTS, OUTBOX
from tests.pipeline.echo_channel import EchoChannel
from tests.pipeline.receipts import receipts_waiting
from tests.support import eventually, running_pipeline

Answer = Callable[[OutboundMessage], SendResult]


class ScriptedChannel(EchoChannel):
    """Answers each send with the next of ``answers`` (the last one repeats), noting when each
    attempt began and how many sends were in flight at once."""

    def __init__(self, *answers: Answer, in_flight_for: float = 0.0) -> None:
        super().__init__(ConnectorConfig())
        self.answers = list(answers)
        self.attempts: list[float] = []
        self.in_flight = self.most_in_flight = 0
        self.in_flight_for = in_flight_for

    async def send(self, message: OutboundMessage) -> SendResult:
        self.attempts.append(time.monotonic())
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.in_flight_for)
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            return answer(message)
        finally:
            self.in_flight -= 1


def refuse(error: Exception) -> Answer:
    def answer(_message: OutboundMessage) -> SendResult:
        raise error

    return answer


def accept(message: OutboundMessage) -> SendResult:
    return SendResult(f"<{message.outbox_id}@provider>")


async def deliver(engine: Engine, ids: list[int], channel: ScriptedChannel, **options: Any) -> dict[str, int]:
    """One deliver batch of ``ids`` through ``channel`` standing in for the web form's sending
    side, on a thread as a consumer runs it (the stage runs its own event loop)."""
    return await asyncio.to_thread(_deliver, engine, ids, channel, **options)


def _deliver(engine: Engine, ids: list[int], channel: ScriptedChannel, **options: Any) -> dict[str, int]:
    publisher = Publisher(Topology("memory://", f"t{uuid.uuid4().hex[:12]}"), ["webform"])
    stage = DeliveryStage(engine, publisher, {"webform": channel}, max_attempts=5, **options)
    try:
        return stage.handle([WorkItem(step="deliver", record="outbox", ids=tuple(ids))])
    finally:
        stage.close()
        publisher.close()


def outbox_row(engine: Engine, outbox_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(OUTBOX).where(OUTBOX.c.id == outbox_id)).one()


def failed_event(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        detail = connection.execute(select(EVENTS.c.detail).where(EVENTS.c.action == "receipt_failed")).scalar_one()
    assert isinstance(detail, dict)
    return detail


def send_health(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        found = state_get(connection, "webform", "send:health")
    assert found is not None
    health: dict[str, Any] = json.loads(found)
    return health


async def test_a_long_retry_after_puts_the_retry_no_earlier(settings: Settings, engine: Engine) -> None:
    [outbox_id] = await receipts_waiting(settings, 1)
    channel = ScriptedChannel(refuse(TransientSendError("429 Too Many Requests", retry_after=600)))
    before = datetime.now(UTC)
    assert await deliver(engine, [outbox_id], channel) == {"retry": 1}
    assert len(channel.attempts) == 1, "no quick retry inside a wait the provider asked for"
    pending = outbox_row(engine, outbox_id)
    assert pending.state == "pending" and "429" in pending.error
    assert pending.next_attempt_at.replace(tzinfo=UTC) >= before + timedelta(seconds=600)


async def test_a_short_retry_after_is_waited_before_the_quick_retry(settings: Settings, engine: Engine) -> None:
    [outbox_id] = await receipts_waiting(settings, 1)
    channel = ScriptedChannel(refuse(TransientSendError("slow down", retry_after=1.2)), accept)
    assert await deliver(engine, [outbox_id], channel) == {"sent": 1}
    first, second = channel.attempts
    assert second - first >= 1.2


async def test_a_channel_down_refusal_turns_its_health_red_until_a_send_succeeds(
    settings: Settings, engine: Engine
) -> None:
    first, second = await receipts_waiting(settings, 2)
    token_url = "https://api.example.net/bot123456:SECRET-TOKEN/sendMessage"
    expired = PermanentSendError(f"401 Unauthorized for {token_url}", code="401", channel_down=True)

    assert await deliver(engine, [first], ScriptedChannel(refuse(expired))) == {"dead": 1}
    dead = outbox_row(engine, first)
    assert dead.state == "dead" and "(401)" in dead.error
    assert "SECRET-TOKEN" not in dead.error and "https://api.example.net/" in dead.error
    detail = failed_event(engine)
    assert detail["code"] == "401" and "SECRET-TOKEN" not in detail["error"]
    health = send_health(engine)
    assert health["state"] == "down" and "401" in health["reason"] and "SECRET-TOKEN" not in health["reason"]
    assert datetime.fromisoformat(health["at"])

    assert await deliver(engine, [second], ScriptedChannel(accept)) == {"sent": 1}
    assert send_health(engine)["state"] == "ok"


async def test_a_refusal_quoting_the_address_is_stored_without_it(settings: Settings, engine: Engine) -> None:
    [outbox_id] = await receipts_waiting(settings, 1)
    refusal = PermanentSendError("550 5.1.1 <pelapor0@example.id>: Recipient address rejected", code="550")
    assert await deliver(engine, [outbox_id], ScriptedChannel(refuse(refusal))) == {"dead": 1}
    for text in (outbox_row(engine, outbox_id).error, failed_event(engine)["error"]):
        assert "550 5.1.1" in text and "pelapor0@example.id" not in text


async def test_a_batch_sends_at_most_max_concurrent_sends_at_once(settings: Settings, engine: Engine) -> None:
    ids = await receipts_waiting(settings, 12)
    channel = ScriptedChannel(accept, in_flight_for=0.05)
    assert await deliver(engine, ids, channel, max_concurrent_sends=4) == {"sent": 12}
    assert channel.most_in_flight == 4


async def test_worker_deliver_says_at_start_up_that_email_receipts_are_off(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _say_email_receipts_are_off.cache_clear()
    caplog.set_level(logging.WARNING)
    try:
        async with running_pipeline(settings, ("deliver",)):  # and nothing to send
            await eventually(lambda: any("email receipts are off" in r.message for r in caplog.records), timeout=5)
    finally:
        _say_email_receipts_are_off.cache_clear()
