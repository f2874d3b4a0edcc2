"""What each gateway event becomes, and what it is keyed by."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.base import DeliveryStatus, MalformedWebhook, NormalizedMessage
from connectors.sms.parser import parse, raw_message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return found


def stored(document: dict[str, Any]) -> Any:
    return raw_message(document, json.dumps(document).encode(), NOW)


def test_a_received_text_is_from_its_sender() -> None:
    message = parse(3, stored(load("sms.received")))
    assert isinstance(message, NormalizedMessage)
    assert message.conversation_key == "sms:+6281234567890"
    assert message.reporter.phone_raw == "+6281234567890"
    assert message.extra["phone_proven"] is True
    assert message.received_at == datetime(2026, 12, 1, 1, 46, 11, tzinfo=UTC)
    assert not message.automatic


def test_the_deprecated_phone_number_field_and_a_national_number_still_work() -> None:
    message = parse(3, stored(load("sms.received__legacy_phone_number")))
    assert isinstance(message, NormalizedMessage)
    assert message.conversation_key == "sms:+6281298765432"


def test_a_long_text_joined_by_the_phone_is_one_message() -> None:
    message = parse(3, stored(load("sms.received__long_joined")))
    assert isinstance(message, NormalizedMessage) and len(message.text) > 160


def test_a_sender_name_is_a_machine_never_answered() -> None:
    message = parse(3, stored(load("sms.received__operator_sender_name")))
    assert isinstance(message, NormalizedMessage) and message.automatic
    assert "phone_proven" not in message.extra


def test_the_key_is_the_message_not_the_gateways_id() -> None:
    document = load("sms.received")
    again = json.loads(json.dumps(document))
    again["id"] = "another-event-id"  # a retry; and the same instant written in another zone
    again["payload"]["receivedAt"] = "2026-12-01T01:46:11.000Z"
    other = json.loads(json.dumps(document))
    other["payload"]["message"] = "Teks lain dengan messageId yang sama"
    assert stored(again).external_id == stored(document).external_id
    assert stored(other).external_id != stored(document).external_id


@pytest.mark.parametrize(
    ("fixture", "status"), [("sms.sent", "sent"), ("sms.delivered", "delivered"), ("sms.failed", "failed")]
)
def test_reports_of_our_texts_are_delivery_statuses(fixture: str, status: str) -> None:
    found = parse(3, stored(load(fixture)))
    assert isinstance(found, DeliveryStatus) and found.status == status
    assert found.error == ("RESULT_ERROR_GENERIC_FAILURE" if status == "failed" else None)


def test_a_body_that_is_not_the_gateways_is_refused_with_a_reason() -> None:
    with pytest.raises(MalformedWebhook, match="event"):
        stored({"hello": "world"})
    with pytest.raises(MalformedWebhook, match="payload"):
        stored({"event": "sms:received"})
