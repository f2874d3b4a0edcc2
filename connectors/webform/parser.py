"""Pure parser: a stored web-form submission -> the unified record. No I/O."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from pydantic import ValidationError

from connectors.base import AnomalousPayload, NormalizedMessage, RawMessage, Reporter, UnsupportedEvent
from connectors.webform.schema import EVENT_SUBMITTED, Submission

EVENT_HEADER = "x-satupintu-event"
CHANNEL = "webform"


def parse_submitted(raw_id: int, raw: RawMessage) -> NormalizedMessage:
    try:
        submission = Submission.model_validate(orjson.loads(raw.payload))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise AnomalousPayload(f"stored submission is not valid: {exc}") from None
    return NormalizedMessage(
        channel=CHANNEL,
        channel_message_id=raw.external_id,
        raw_message_id=raw_id,
        conversation_key=f"{CHANNEL}:{raw.external_id}",
        reporter=Reporter(name=submission.name, email=submission.email, phone_raw=submission.phone),
        subject=submission.subject,
        text=submission.text,
        attachments=raw.attachments,
        received_at=raw.received_at,
        declared_kind=submission.kind,
        anonymous=submission.anonymous,
    )


HANDLERS: dict[str, Callable[[int, RawMessage], NormalizedMessage]] = {EVENT_SUBMITTED: parse_submitted}
IGNORED: frozenset[str] = frozenset()


def parse(raw_id: int, raw: RawMessage) -> NormalizedMessage | None:
    event = raw.headers.get(EVENT_HEADER, "")
    if event in IGNORED:
        return None
    handler = HANDLERS.get(event)
    if handler is None:
        raise UnsupportedEvent(f"web-form event {event!r}")
    return handler(raw_id, raw)
