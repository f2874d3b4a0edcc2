"""Two small channels for the reply-policy tests, installed through the entry-point group.

``calllog`` is inbound only, like an officer's log of phone calls: it has no ``send``, so its
receipts must go another way. ``phonechat`` (a chat channel addressed by phone number, as
WhatsApp is) only sends, and writes each message it is given to a folder, where the test reads
what the reporter would have got.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    NormalizedMessage,
    Parsed,
    RawMessage,
    Reporter,
    Unverified,
    WebhookEndpoint,
    WebhookInbound,
    WebhookRequest,
)
from tests.sending import FolderSender, sent

__all__ = ["CALLLOG_PATH", "CallLog", "PhoneChat", "sent"]

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


class PhoneChat(FolderSender):
    """Sends by writing each message to its folder (``tests/sending.py``)."""

    spec = ConnectorSpec(
        name="phonechat", display_name="Phone chat (test)", roles=frozenset({"send"}), event_types=frozenset()
    )
