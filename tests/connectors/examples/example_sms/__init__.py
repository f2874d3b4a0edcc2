"""An SMS gateway on an Android phone posting signed webhooks: the worked webhook example.

The gateway posts a batch of events as ``{"events": [{"id", "event", "payload"}, ...]}``, signed
with ``X-Signature``: the hex HMAC-SHA256 of the body followed by ``X-Timestamp`` (Unix seconds).
Received texts become messages; the gateway's delivery reports of our own texts become delivery
statuses; its pings are ignored. The connector only declares this; the framework verifies, splits,
stores and answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import Field, SecretStr, ValidationError

from connectors.base import (
    AnomalousPayload,
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    DeliveryStatus,
    HmacSignature,
    MalformedWebhook,
    NormalizedMessage,
    Parsed,
    RawMessage,
    Reporter,
    UnsupportedEvent,
    VerifyToken,
    WebhookEndpoint,
    WebhookInbound,
    WebhookRequest,
)

CHANNEL = "example_sms"
EVENT_HEADER = "x-satupintu-event"
RECEIVED, DELIVERED, FAILED, PING = "sms.received", "sms.delivered", "sms.failed", "system.ping"


class ExampleSmsConfig(ConnectorConfig):
    signing_key: SecretStr
    """The key set in the gateway's webhook settings (or ``signing_key_file``)."""
    verify_token: SecretStr | None = None
    """Answer the ``hub.challenge`` handshake with this token, for senders that ask first."""
    path: str = Field(default="/webhooks/example_sms", pattern=r"^/[a-z0-9/_-]+$")
    max_skew_seconds: int = Field(default=300, gt=0)
    """Refuse a request whose X-Timestamp is further than this from now (a replay)."""


class ExampleSms(Connector[ExampleSmsConfig], WebhookInbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="SMS gateway (example)",
        roles=frozenset({"webhook"}),
        event_types=frozenset({RECEIVED, DELIVERED, FAILED}),
        ignored_event_types=frozenset({PING}),
    )
    config_model = ExampleSmsConfig

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        token = self.config.verify_token
        return [
            WebhookEndpoint(
                path=self.config.path,
                verify=HmacSignature(
                    header="X-Signature",
                    secret=self.config.signing_key.get_secret_value().encode(),
                    prefix="",
                    timestamp_header="X-Timestamp",
                    max_skew_seconds=self.config.max_skew_seconds,
                ),
                split=split,
                handshake=VerifyToken(token.get_secret_value().encode()) if token else None,
                max_body_bytes=256 * 1024,
            )
        ]

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        event = raw.headers.get(EVENT_HEADER, "")
        if event == PING:
            return None
        if event not in self.spec.event_types:
            raise UnsupportedEvent(event)
        payload: dict[str, Any] = orjson.loads(raw.payload)["payload"]
        try:
            if event == RECEIVED:
                return _received(raw_id, raw, payload)
            return _status(raw_id, event, payload)
        except (KeyError, TypeError, ValidationError) as exc:
            raise AnomalousPayload(f"{event}: {exc}") from None


def split(request: WebhookRequest) -> list[RawMessage]:
    """One raw message per event of the batch, keyed by the gateway's event id."""
    document = orjson.loads(request.body)
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not events:
        raise MalformedWebhook('expected {"events": [...]} with at least one event')
    messages = []
    for number, event in enumerate(events):
        if not (isinstance(event, dict) and isinstance(event.get("id"), str) and isinstance(event.get("event"), str)):
            raise MalformedWebhook(f"event {number} has no string id and event")
        messages.append(
            RawMessage(
                channel=CHANNEL,
                external_id=event["id"],
                received_at=request.received_at,
                content_type="application/json",
                payload=orjson.dumps(event),
                headers={EVENT_HEADER: event["event"]},
            )
        )
    return messages


def _received(raw_id: int, raw: RawMessage, payload: dict[str, Any]) -> NormalizedMessage:
    phone = payload["phoneNumber"]
    return NormalizedMessage(
        channel=CHANNEL,
        channel_message_id=payload["messageId"],
        raw_message_id=raw_id,
        conversation_key=f"{CHANNEL}:{phone}",
        reporter=Reporter(phone_raw=phone),
        text=payload["message"],
        received_at=datetime.fromisoformat(payload["receivedAt"]),
    )


def _status(raw_id: int, event: str, payload: dict[str, Any]) -> DeliveryStatus:
    failed = event == FAILED
    return DeliveryStatus(
        channel=CHANNEL,
        raw_message_id=raw_id,
        provider_message_id=payload["messageId"],
        status="failed" if failed else "delivered",
        at=datetime.fromisoformat(payload["failedAt" if failed else "deliveredAt"]),
        error=payload.get("reason") if failed else None,
    )


CONNECTOR = ExampleSms
