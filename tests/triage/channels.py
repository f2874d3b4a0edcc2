"""Two small channels for the reply-policy tests, installed through the entry-point group.

``calllog`` is inbound only, like an officer's log of phone calls: it has no ``send``, so its
receipts must go another way. ``phonechat`` (a chat channel addressed by phone number, as
WhatsApp is) only sends, and writes each message it is given to a folder, where the test reads
what the reporter would have got.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    NormalizedMessage,
    Outbound,
    OutboundMessage,
    Parsed,
    RawMessage,
    Reporter,
    SendResult,
    UnsupportedEvent,
    Unverified,
    WebhookEndpoint,
    WebhookInbound,
    WebhookRequest,
)

CALLLOG_PATH = "/test/calllog"


class CallLog(Connector[ConnectorConfig], WebhookInbound):
    """``POST /test/calllog`` ``{"id", "name", "phone", "email", "text"}``: one logged call."""

    spec = ConnectorSpec(
        name="calllog", display_name="Call log (test)", roles=frozenset({"webhook"}), event_types=frozenset({"call"})
    )

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        return [WebhookEndpoint(CALLLOG_PATH, Unverified("a test channel"), _split, ok_status=202)]

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        call: dict[str, Any] = json.loads(raw.payload)
        return NormalizedMessage(
            channel="calllog",
            channel_message_id=raw.external_id,
            raw_message_id=raw_id,
            conversation_key=f"calllog:{raw.external_id}",
            reporter=Reporter(name=call.get("name"), phone_raw=call.get("phone"), email=call.get("email")),
            text=call["text"],
            received_at=raw.received_at,
        )


def _split(request: WebhookRequest) -> list[RawMessage]:
    call = json.loads(request.body)
    return [
        RawMessage(
            channel="calllog",
            external_id=call["id"],
            received_at=request.received_at,
            content_type="application/json",
            payload=request.body,
        )
    ]


class FolderConfig(ConnectorConfig):
    folder: Path


class PhoneChat(Connector[FolderConfig], Outbound):
    """Sends by writing ``<folder>/<idempotency key>.json``."""

    spec = ConnectorSpec(
        name="phonechat", display_name="Phone chat (test)", roles=frozenset({"send"}), event_types=frozenset()
    )
    config_model = FolderConfig

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        raise UnsupportedEvent("this test channel only sends")

    async def send(self, message: OutboundMessage) -> SendResult:
        self.config.folder.mkdir(parents=True, exist_ok=True)
        target = self.config.folder / f"{message.idempotency_key.replace(':', '-')}.json"
        target.write_text(message.model_dump_json(by_alias=True))
        return SendResult(f"wa-{message.outbox_id}")


def sent(folder: Path) -> list[OutboundMessage]:
    """What the ``phonechat`` test channel was given to send."""
    if not folder.is_dir():
        return []
    return [OutboundMessage.model_validate_json(path.read_text()) for path in sorted(folder.glob("*.json"))]
