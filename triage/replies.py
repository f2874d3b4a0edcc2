"""Where a receipt goes: back on the channel the report came by when that channel can send;
otherwise to a phone or email the report itself gave, by the first fallback route that is
enabled; otherwise nowhere, and the tracking number is given in person or by phone.

Only the identities the message itself gave are used, never others linked to its reporter: a
phone shared by two people links them, and one person's receipt must not reach the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import Connection

from config.settings import ReplyRoute
from envelopes import NormalizedMessage, Recipient
from storage.reporters import case_contacts

_MOBILE = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


@dataclass(frozen=True, slots=True)
class ReplyPolicy:
    sending: frozenset[str]
    """The enabled channels whose connector can send (role ``send``)."""
    fallback: Sequence[ReplyRoute]
    """``replies.fallback``: tried in order when the report's own channel cannot send."""


@dataclass(frozen=True, slots=True)
class Route:
    """The receipt goes on ``channel`` to ``recipient``."""

    channel: str
    recipient: Recipient
    in_reply_to: str | None


@dataclass(frozen=True, slots=True)
class InPerson:
    """No channel reaches the reporter: the officer gives the tracking number in person or by phone."""

    reason: str


def route_receipt(message: NormalizedMessage, policy: ReplyPolicy) -> Route | InPerson:
    reporter = message.reporter
    if message.channel in policy.sending:
        recipient = Recipient(
            via="conversation",
            conversation_key=message.conversation_key,
            email=reporter.email,
            phone=reporter.phone,
            channel_user_id=reporter.channel_user_id,
            name=reporter.name,
            raw_message_id=message.raw_message_id,
        )
        return Route(message.channel, recipient, message.channel_message_id)
    mobile = reporter.phone if reporter.phone and _can_be_mobile(reporter.phone) else None
    reachable = {"phone": mobile, "email": reporter.email}
    for route in policy.fallback:
        address = reachable[route.identity]
        if address and route.channel in policy.sending:
            recipient = Recipient(
                via=route.identity,
                conversation_key=message.conversation_key,
                name=reporter.name,
                raw_message_id=message.raw_message_id,
                phone=address if route.identity == "phone" else None,
                email=address if route.identity == "email" else None,
            )
            return Route(route.channel, recipient, None)
    return InPerson(f"{message.channel} cannot send, and {_unreached(reporter.phone, mobile, reporter.email)}")


@dataclass(frozen=True, slots=True)
class Reach:
    """Another way to the reporter an officer is offered: ``channel`` can send to ``address``."""

    channel: str
    via: str
    """``phone`` or ``email``: the kind of ``address``."""
    address: str


def other_ways(
    contacts: Iterable[tuple[str, str]], policy: ReplyPolicy, *, failed: Recipient, channel: str, channel_down: bool
) -> list[Reach]:
    """Where a reply that ``channel`` refused for good could go instead: each of the reporter's
    ``contacts`` (kind, value) that an enabled, sending channel of ``replies.fallback`` can
    address (a fixed-line number gets no WhatsApp or SMS), in the fallback's order. The way that
    failed is left out: ``channel`` to the address it was sent to, or ``channel`` altogether when
    the refusal says it is down. An offer for the officer, never sent by itself."""
    given = list(dict.fromkeys(contacts))
    tried = {failed.phone, failed.email}
    ways: list[Reach] = []
    for route in policy.fallback:
        if route.channel not in policy.sending:
            continue
        for kind, value in given:
            if kind != route.identity or (kind == "phone" and not _can_be_mobile(value)):
                continue
            if route.channel == channel and (channel_down or value in tried):
                continue
            way = Reach(route.channel, kind, value)
            if way not in ways:
                ways.append(way)
    return ways


@dataclass(frozen=True, slots=True)
class OtherWays:
    """The ``reachable`` of a ``*_failed`` case event (a reply refused for good, at sending or in
    a later status): the reporter's other ways, from their phones and emails and those of the
    reporters linked with them (``storage.reporters.case_contacts``). Rare, so one case at a time."""

    policy: ReplyPolicy

    def __call__(
        self, connection: Connection, case_id: int, channel: str, recipient: Recipient, channel_down: bool
    ) -> list[dict[str, str]]:
        contacts = case_contacts(connection, [case_id]).get(case_id, [])
        ways = other_ways(contacts, self.policy, failed=recipient, channel=channel, channel_down=channel_down)
        return [{"channel": w.channel, "via": w.via, "address": w.address} for w in ways]


def _can_be_mobile(e164: str) -> bool:
    """WhatsApp and SMS need a mobile number; a caller's office line cannot take them."""
    return phonenumbers.number_type(phonenumbers.parse(e164)) in _MOBILE


def _unreached(phone: str | None, mobile: str | None, email: str | None) -> str:
    """Why no fallback applies, naming the kinds of identity given, never their values."""
    given = [kind for kind, value in (("a mobile number", mobile), ("an email address", email)) if value]
    if phone and not mobile:
        given.insert(0, "a fixed-line number")
    if not given:
        return "the report gave no phone number or email address"
    return f"no enabled channel of replies.fallback can send to {' or '.join(given)}"
