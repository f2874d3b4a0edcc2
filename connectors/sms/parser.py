"""The gateway's webhook events: what each is keyed by, and what it becomes (pure).

One request carries one event: ``{"deviceId", "event", "id", "payload", "webhookId"}``. The
payload's ``messageId`` is derived from the content and not unique, so a received text is keyed by
its sender, time, recipient and text as well: a retry of the same delivery makes nothing new, and
two texts that happen to share a ``messageId`` stay two. Long texts: Android hands the app every
part of a concatenated SMS at once and the app joins them before posting (``MessagesReceiver``
joins the parts' bodies), so one webhook carries the whole text; parts a network delivered as
separate SMS come as separate webhooks and join the same case by the sender's conversation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import phonenumbers
from pydantic import ValidationError

from connectors.base import (
    EVENT_HEADER,
    AnomalousPayload,
    DeliveryStatus,
    MalformedWebhook,
    NormalizedMessage,
    Parsed,
    RawMessage,
    Reporter,
    event_of,
)

CHANNEL = "sms"
RECEIVED, MMS_RECEIVED = "sms.received", "mms.received"
SENT, DELIVERED, FAILED = "sms.sent", "sms.delivered", "sms.failed"
Status = Literal["sent", "delivered", "failed"]
STATUS_EVENTS: dict[str, tuple[Status, str]] = {
    SENT: ("sent", "sentAt"),
    DELIVERED: ("delivered", "deliveredAt"),
    FAILED: ("failed", "failedAt"),
}
EVENT_TYPES = frozenset({RECEIVED, MMS_RECEIVED, *STATUS_EVENTS})
IGNORED_TYPES = frozenset({"system.ping", "sms.data-received"})
"""The phone's health ping, and binary data SMS to an app port: neither is a person writing.
(Our event types are the gateway's with a dot for its colon, ``sms:received`` -> ``sms.received``,
so that fixture files can be named after them.)"""
DEFAULT_REGION = "ID"


def raw_message(document: Any, body: bytes, received_at: datetime) -> RawMessage:
    """The stored form of one webhook body; :class:`MalformedWebhook` when it is not the gateway's."""
    if not isinstance(document, Mapping) or not isinstance(document.get("event"), str):
        raise MalformedWebhook('expected {"event": "...", "payload": {...}} as the gateway sends')
    event = event_type(document["event"])
    payload = document.get("payload")
    if event not in IGNORED_TYPES and not isinstance(payload, Mapping):
        raise MalformedWebhook(f"{event}: no payload object")
    return RawMessage(
        channel=CHANNEL,
        external_id=external_id(event, payload if isinstance(payload, Mapping) else {}, document),
        received_at=received_at,
        content_type="application/json",
        payload=body,
        headers={EVENT_HEADER: event},
    )


def event_type(gateway_event: str) -> str:
    return gateway_event.replace(":", ".")


def external_id(event: str, payload: Mapping[str, Any], document: Mapping[str, Any]) -> str:
    if event in {RECEIVED, MMS_RECEIVED}:
        parts = (
            payload.get("messageId"),
            _sender(payload),
            payload.get("recipient"),
            _instant(payload.get("receivedAt")),
            payload.get("message"),
            payload.get("transactionId"),
        )
        return f"{event}:{_digest(parts)}"
    if event in STATUS_EVENTS:
        at = _instant(payload.get(STATUS_EVENTS[event][1]))
        to = payload.get("recipient") or payload.get("phoneNumber")
        return f"{event}:{payload.get('messageId')}:{_digest((to, at))}"
    return f"{event}:{_digest((document.get('id'), document.get('deviceId'), orjson.dumps(payload).decode()))}"


def parse(raw_id: int, raw: RawMessage) -> Parsed:
    event = event_of(raw, EVENT_TYPES, IGNORED_TYPES, "SMS gateway event")
    if event is None:
        return None
    try:
        payload: Mapping[str, Any] = orjson.loads(raw.payload)["payload"]
        if event in STATUS_EVENTS:
            return _status(raw_id, event, payload)
        return _received(raw_id, raw, event, payload)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ValidationError) as exc:
        raise AnomalousPayload(f"{event}: {type(exc).__name__}: {exc}") from None


def _received(raw_id: int, raw: RawMessage, event: str, payload: Mapping[str, Any]) -> NormalizedMessage:
    sender = _sender(payload)
    if not sender:
        raise KeyError("sender")
    number = e164(sender)
    if event == MMS_RECEIVED:
        subject = payload.get("subject") or ""
        text = f"MMS diterima{f': {subject}' if subject else ''} (gateway tidak meneruskan isi lampirannya)"
    else:
        text = str(payload["message"])
    extra: dict[str, Any] = {"gateway_message_id": payload.get("messageId"), "sim": payload.get("simNumber")}
    if number:
        extra["phone_proven"] = True  # the network delivered it from this number
    return NormalizedMessage(
        channel=CHANNEL,
        channel_message_id=raw.external_id,
        raw_message_id=raw_id,
        conversation_key=f"{CHANNEL}:{number or sender}",
        reporter=Reporter(phone_raw=sender),
        text=text,
        received_at=_when(payload.get("receivedAt")) or raw.received_at,
        automatic=number is None,  # a sender name or short code (the operator, a bank): no person to answer
        extra=extra,
    )


def _status(raw_id: int, event: str, payload: Mapping[str, Any]) -> DeliveryStatus:
    status, field = STATUS_EVENTS[event]
    reason = payload.get("reason")
    return DeliveryStatus(
        channel=CHANNEL,
        raw_message_id=raw_id,
        provider_message_id=str(payload["messageId"]),
        status=status,
        at=_when(payload.get(field)) or datetime.now(UTC),
        error=str(reason) if event == FAILED and reason else None,
    )


def e164(number: str) -> str | None:
    """``+6281234567890`` for a number the network can reach; None for a name or short code."""
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _sender(payload: Mapping[str, Any]) -> str | None:
    found = payload.get("sender") or payload.get("phoneNumber")
    return str(found) if found else None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _instant(value: Any) -> str | None:
    """A time as the same instant however its zone was written (``+07:00`` or ``Z``)."""
    try:
        moment = _when(value)
    except ValueError:
        return str(value)
    return moment.astimezone(UTC).isoformat() if moment else None


def _digest(parts: tuple[Any, ...]) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:40]
