"""SMS through a gateway: signed webhooks in, texts out, delivery reports matched back.

``POST /webhooks/sms`` is checked as the Android SMS gateway documents it, before anything is
stored: ``X-Signature`` is the hex HMAC-SHA256, under ``signing_key``, of the raw body followed by
``X-Timestamp`` (Unix seconds, refused further than five minutes from now). Sending goes through
a :class:`~connectors.sms.provider.SmsProvider` (``provider``); each send's encoding and segment
count (GSM-7 or UCS-2) is recorded on the case with the send.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import orjson
from pydantic import Field, SecretStr

from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorContext,
    ConnectorSpec,
    HmacSignature,
    Outbound,
    OutboundMessage,
    Parsed,
    PermanentSendError,
    RawMessage,
    SendResult,
    WebhookEndpoint,
    WebhookInbound,
    WebhookRequest,
)
from connectors.sms import parser, segments
from connectors.sms.parser import CHANNEL, EVENT_TYPES, IGNORED_TYPES
from connectors.sms.provider import AndroidSmsGateway, SmsProvider

WEBHOOK_PATH = "/webhooks/sms"
MAX_SKEW_SECONDS = 300
"""The gateway's docs advise refusing a timestamp further than five minutes from now (a replay)."""


class SmsConfig(ConnectorConfig):
    provider: Literal["android-sms-gateway"] = "android-sms-gateway"
    gateway_url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    """The phone's local server (``http://<phone>:8080``) or the cloud (``https://api.sms-gate.app/3rdparty/v1``)."""
    username: str = Field(min_length=1)
    password: SecretStr
    signing_key: SecretStr
    """Settings → Webhooks → Signing Key in the app (or ``signing_key_file``)."""


class SmsConnector(Connector[SmsConfig], WebhookInbound, Outbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="SMS (Android SMS gateway)",
        roles=frozenset({"webhook", "send"}),
        event_types=EVENT_TYPES,
        ignored_event_types=IGNORED_TYPES,
        capabilities=frozenset({"delivery_reports", "proves_phone"}),
        docs_url="https://docs.sms-gate.app/features/webhooks/",
    )
    config_model = SmsConfig

    def __init__(self, config: SmsConfig, context: ConnectorContext | None = None) -> None:
        super().__init__(config, context)
        self.provider: SmsProvider = AndroidSmsGateway(
            config.gateway_url, config.username, config.password.get_secret_value()
        )

    async def start(self) -> None:
        await self.provider.start()

    async def stop(self) -> None:
        await self.provider.stop()

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        return [
            WebhookEndpoint(
                path=WEBHOOK_PATH,
                verify=HmacSignature(
                    header="X-Signature",
                    secret=self.config.signing_key.get_secret_value().encode(),
                    prefix="",
                    timestamp_header="X-Timestamp",
                    max_skew_seconds=MAX_SKEW_SECONDS,
                ),
                split=split,
                max_body_bytes=256 * 1024,
            )
        ]

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        return parser.parse(raw_id, raw)

    async def send(self, message: OutboundMessage) -> SendResult:
        phone = _phone(message)
        cost = segments.count(message.text)
        provider_id = await self.provider.send(phone, message.text, message.idempotency_key)
        return SendResult(provider_id, detail=cost.as_detail())


def split(request: WebhookRequest) -> list[RawMessage]:
    """One event per request, as the gateway posts them."""
    return [parser.raw_message(orjson.loads(request.body), request.body, request.received_at)]


def _phone(message: OutboundMessage) -> str:
    """The E.164 number a text goes to: the reporter's (a report by SMS, or another channel's
    fallback by phone)."""
    recipient = message.recipient
    candidate = recipient.phone
    if candidate is None and recipient.via == "conversation":
        candidate = parser.e164(recipient.conversation_key.removeprefix(f"{CHANNEL}:"))
    if not candidate:
        raise PermanentSendError("the recipient has no phone number an SMS can reach")
    return candidate
