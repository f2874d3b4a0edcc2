"""A small channel for the delivery-status tests: it sends receipts, and its payloads are either
a report or a delivery status of a message it sent (JSON ``{"type": "report" | "status", ...}``).

Its send names the provider id it was given, then waits for ``EchoChannel.gate``, so that a test
can let a status arrive between the provider's answer and our commit of it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson

from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    DeliveryStatus,
    NormalizedMessage,
    Outbound,
    OutboundMessage,
    Parsed,
    RawMessage,
    Reporter,
    SendResult,
)
from tests.support import installed_connectors


class EchoChannel(Connector[ConnectorConfig], Outbound):
    spec = ConnectorSpec(
        name="echo",
        display_name="Echo (a test channel)",
        roles=frozenset({"send"}),
        event_types=frozenset({"report", "status"}),
    )
    gate: ClassVar[threading.Event] = threading.Event()
    issued: ClassVar[list[str]] = []

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        body = orjson.loads(raw.payload)
        if body["type"] == "status":
            return DeliveryStatus(
                channel=self.name,
                raw_message_id=raw_id,
                provider_message_id=body["id"],
                status=body["status"],
                at=raw.received_at,
                error_code=body.get("code"),
                error=body.get("error"),
            )
        return NormalizedMessage(
            channel=self.name,
            channel_message_id=raw.external_id,
            raw_message_id=raw_id,
            conversation_key=f"echo:{body['from']}",
            reporter=Reporter(channel_user_id=body["from"]),
            text=body["text"],
            received_at=raw.received_at,
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        provider_id = f"echo-{message.outbox_id}"
        self.issued.append(provider_id)
        await asyncio.to_thread(self.gate.wait)
        return SendResult(provider_id)


def echo_raw(external_id: str, **body: Any) -> RawMessage:
    return RawMessage(
        channel="echo",
        external_id=external_id,
        received_at=datetime.now(UTC),
        content_type="application/json",
        payload=orjson.dumps(body),
    )


@contextmanager
def echo_installed(site: Path) -> Iterator[None]:
    """Install the channel the way pip installs a connector package, its send gate closed."""
    EchoChannel.gate.clear()
    EchoChannel.issued.clear()
    try:
        with installed_connectors(site, "satupintu-echo", {"echo": "tests.pipeline.echo_channel:EchoChannel"}):
            yield
    finally:
        EchoChannel.gate.set()  # a send still waiting ends
