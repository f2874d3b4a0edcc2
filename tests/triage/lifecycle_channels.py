"""A two-way chat channel for the lifecycle tests, installed through the entry-point group:
``POST /test/chat`` ``{"id", "user", "name", "text"}`` is one message of ``user``'s chat, and
what satupintu sends on it is written to a folder, where the test reads what the reporter got."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from connectors.base import (
    Connector,
    ConnectorSpec,
    NormalizedMessage,
    Outbound,
    OutboundMessage,
    Parsed,
    RawMessage,
    Reporter,
    SendResult,
    Unverified,
    WebhookEndpoint,
    WebhookInbound,
    WebhookRequest,
)
from tests.sending import FolderConfig, sent, write_sent

__all__ = ["CHAT_PATH", "Chat", "sent"]

CHAT_PATH = "/test/chat"


class Chat(Connector[FolderConfig], WebhookInbound, Outbound):
    spec = ConnectorSpec(
        name="chat",
        display_name="Chat (test)",
        roles=frozenset({"webhook", "send"}),
        event_types=frozenset({"message"}),
    )
    config_model = FolderConfig

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        return [WebhookEndpoint(CHAT_PATH, Unverified("a test channel"), _split, ok_status=202)]

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        chat: dict[str, Any] = json.loads(raw.payload)
        return NormalizedMessage(
            channel="chat",
            channel_message_id=raw.external_id,
            raw_message_id=raw_id,
            conversation_key=f"chat:{chat['user']}",
            reporter=Reporter(name=chat.get("name"), channel_user_id=chat["user"]),
            text=chat["text"],
            received_at=raw.received_at,
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        write_sent(self.config.folder, message)
        return SendResult(f"chat-{message.outbox_id}")


def _split(request: WebhookRequest) -> list[RawMessage]:
    chat = json.loads(request.body)
    return [
        RawMessage(
            channel="chat",
            external_id=chat["id"],
            received_at=request.received_at,
            content_type="application/json",
            payload=request.body,
        )
    ]
