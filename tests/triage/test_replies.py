"""The reply policy on its own: which channel and identity a receipt is addressed to."""

from __future__ import annotations

from datetime import UTC, datetime

from config.settings import ReplyRoute, ReplySettings
from envelopes import NormalizedMessage, Reporter
from triage.replies import InPerson, ReplyPolicy, Route, route_receipt

DEFAULT_FALLBACK = ReplySettings().fallback
MOBILE = "+6281234567891"
OFFICE_LINE = "+62215550123"


def call(**reporter: str) -> NormalizedMessage:
    return NormalizedMessage(
        channel="calllog",
        channel_message_id="call-1",
        raw_message_id=7,
        conversation_key="calllog:call-1",
        reporter=Reporter(name="Siti Aminah", **reporter),
        text="Lampu jalan di depan gedung C mati.",
        received_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
    )


def policy(*sending: str, fallback: list[ReplyRoute] = DEFAULT_FALLBACK) -> ReplyPolicy:
    return ReplyPolicy(sending=frozenset(sending), fallback=fallback)


def test_a_channel_that_sends_answers_in_its_own_conversation() -> None:
    message = call(phone=MOBILE, email="siti@example.id").model_copy(update={"channel": "whatsapp"})
    route = route_receipt(message, policy("whatsapp", "email"))
    assert isinstance(route, Route)
    assert (route.channel, route.recipient.via, route.in_reply_to) == ("whatsapp", "conversation", "call-1")
    assert route.recipient.phone == MOBILE and route.recipient.email == "siti@example.id"


def test_the_first_fallback_that_is_enabled_and_has_the_identity_wins() -> None:
    route = route_receipt(call(phone=MOBILE, email="siti@example.id"), policy("sms", "email"))
    assert isinstance(route, Route)
    assert (route.channel, route.recipient.via, route.recipient.phone) == ("sms", "phone", MOBILE)
    assert route.recipient.email is None, "another channel carries only the identity it addresses"
    assert route.in_reply_to is None


def test_the_order_is_the_configured_one() -> None:
    email_first = [ReplyRoute(channel="email", identity="email"), ReplyRoute(channel="sms", identity="phone")]
    route = route_receipt(call(phone=MOBILE, email="siti@example.id"), policy("sms", "email", fallback=email_first))
    assert isinstance(route, Route)
    assert (route.channel, route.recipient.email, route.recipient.phone) == ("email", "siti@example.id", None)


def test_an_office_line_gets_no_whatsapp_or_sms() -> None:
    assert isinstance(route_receipt(call(phone=OFFICE_LINE), policy("whatsapp", "sms")), InPerson)
    route = route_receipt(call(phone=OFFICE_LINE, email="siti@example.id"), policy("whatsapp", "email"))
    assert isinstance(route, Route) and route.channel == "email"


def test_the_reason_names_what_was_given_never_the_value() -> None:
    nothing = route_receipt(call(), policy("whatsapp"))
    assert isinstance(nothing, InPerson)
    assert nothing.reason == "calllog cannot send, and the report gave no phone number or email address"
    office = route_receipt(call(phone=OFFICE_LINE, email="siti@example.id"), policy("whatsapp"))
    assert isinstance(office, InPerson)
    assert "a fixed-line number or an email address" in office.reason
    assert OFFICE_LINE not in office.reason and "siti" not in office.reason
