"""The pure parser: a stored submission becomes the unified record (before the common rules)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import AnomalousPayload, RawMessage, UnsupportedEvent
from connectors.webform.parser import EVENT_HEADER, parse
from normalizer.rules import apply_common_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECEIVED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def raw(payload: bytes, event: str = "report.submitted") -> RawMessage:
    return RawMessage(
        channel="webform",
        external_id="sim-1",
        received_at=RECEIVED,
        content_type="application/json",
        payload=payload,
        headers={EVENT_HEADER: event},
    )


def test_full_submission_maps_every_field() -> None:
    message = parse(7, raw((FIXTURES / "report.submitted__full.json").read_bytes()))
    assert message is not None
    assert message.raw_message_id == 7
    assert message.conversation_key == "webform:sim-1"
    assert message.declared_kind == "pengaduan"
    assert message.reporter.name == "Rina Kartika"
    assert message.reporter.phone_raw == "0812-3456-7890"
    assert message.subject == "UKT belum terverifikasi"
    assert message.received_at == RECEIVED


def test_common_rules_clean_contacts_and_whitespace() -> None:
    message = parse(1, raw((FIXTURES / "report.submitted__question_with_whitespace.json").read_bytes()))
    assert message is not None
    cleaned = apply_common_rules(message)
    assert cleaned.reporter.email == "andi@example.id"
    assert cleaned.reporter.name == "Andi"
    assert cleaned.subject == "Jadwal wisuda"
    assert cleaned.text == "Kapan jadwal wisuda periode Desember? Syaratnya apa saja?"


def test_anonymous_report_keeps_the_wish() -> None:
    message = parse(1, raw((FIXTURES / "report.submitted__anonymous_phone_only.json").read_bytes()))
    assert message is not None and message.anonymous
    assert apply_common_rules(message).reporter.phone == "+6281311112291"


def test_unknown_event_is_unsupported_not_a_crash() -> None:
    with pytest.raises(UnsupportedEvent):
        parse(1, raw(b"{}", event="report.deleted"))


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"[]",
        b'{"email": "a@b.id"}',
        b'{"text": "tanpa kontak"}',
        "\udcff".encode("utf-8", "surrogatepass"),
    ],
)
def test_stored_payload_that_does_not_fit_is_anomalous(payload: bytes) -> None:
    with pytest.raises(AnomalousPayload):
        parse(1, raw(payload))
