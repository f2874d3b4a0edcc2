"""Which case a message belongs to: the decision, for a whole triage batch at once.

A message joins a case only when its sender is that case's reporter (the same reporter, which
includes the identities linked to them), by, in this order:

1. a tracking number it quotes (subject or text),
2. a reply to one of the case's messages or to one we sent for it (``in_reply_to`` against the
   case messages' channel ids and the outbox's provider ids, on the same channel),
3. its conversation: the open case of its ``conversation_key``.

A merged case stands for the case it went into. A closed case is not rejoined: the message opens
a new case that follows it, except a machine's message (``automatic``), which never opens a case
and is filed on the closed case (a bounce of the follow-up report matters to the officer). A
third party who quotes someone's tracking number, or writes in their email thread, opens a case of
their own (on the key ``<conversation>#r<reporter>`` when the conversation's open case is
another person's).

What threads nowhere: a status command, a machine's message and a message with nothing to act on
are kept without a case, except on a channel whose connector declares ``recorded_by_officer``
(a walk-in, a letter, a phone-log row, a LAPOR! report): what an officer registered always opens
a case, however short. A message with nothing to act on that came within
``[triage] thread_window_minutes`` before a message of the same person on the same conversation
that opens a case (the "halo" before the report, a photo sent first) goes into that case, in the
batch and from earlier batches alike; otherwise it gets one greeting per conversation per window.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from difflib import SequenceMatcher
from typing import Any, Literal

from sqlalchemy import Connection

from envelopes import NormalizedMessage
from storage import threads as store
from storage.identities import link, persons
from storage.threads import CaseRef
from triage.commands import StatusCommand, nothing_to_act_on, quoted_tracking_numbers, status_command
from triage.inbox import OPENED_BY

ACTOR = "system:triage"
DUPLICATE_RATIO = 0.9
MAIL_ID = "@"
"""A reply id with an @ is a Message-ID, unique everywhere: it may name a mail any channel sent."""
ANY_CHANNEL = "*"
IDENTITY_FIELDS = frozenset({"email", "phone", "channel_user_id"})
_WORDS = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
Reason = Literal["tracking_number", "reply", "conversation", "window", "duplicate"]
KeptReason = Literal["nothing", "automatic", "status"]


@dataclass(frozen=True, slots=True)
class Joined:
    """The message joins an existing case."""

    message: NormalizedMessage
    case_id: int
    reason: Reason
    evidence: dict[str, Any]
    closed: bool = False
    """The case is closed (only a machine's message is filed on a closed case)."""


@dataclass(slots=True)
class Opening:
    """A new case: its opening message, and the batch's other messages that belong to it."""

    message: NormalizedMessage
    conversation_key: str
    previous_case_id: int | None
    members: list[NormalizedMessage] = field(default_factory=list)
    """Every message of the case in this batch, in the order they came (the opening one too)."""
    reasons: dict[int, Reason] = field(default_factory=dict)
    """Why each member other than the opening one belongs (by raw message id)."""


@dataclass(frozen=True, slots=True)
class Kept:
    """The message is kept without a case; ``answer`` says what it gets back, if anything."""

    message: NormalizedMessage
    reason: KeptReason
    answer: Literal["greeting", "status"] | None
    status: StatusCommand | None = None


@dataclass(slots=True)
class Plan:
    openings: list[Opening] = field(default_factory=list)
    joined: list[Joined] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)


@dataclass(slots=True)
class _Batch:
    plan: Plan
    opening_of: dict[str, Opening] = field(default_factory=dict)
    """The cases this batch opens, by conversation key."""
    waiting: list[NormalizedMessage] = field(default_factory=list)
    """Messages with nothing to act on not placed yet: a later opening may take them."""
    openers: dict[Hashable, list[Opening]] = field(default_factory=dict)
    """The cases this batch opens, by the ``signatures`` of who opened them."""


@dataclass(frozen=True, slots=True)
class _Reply:
    case: CaseRef
    sent_to: str | None
    """The email address the answered message went to, when we sent it by email."""


@dataclass(frozen=True, slots=True)
class _Lookups:
    open: dict[str, CaseRef]
    closed: dict[str, CaseRef]
    tracking: dict[str, CaseRef]
    replies: dict[tuple[str, str], _Reply]
    greeted: set[str]
    numbers: dict[int, list[str]]
    persons: dict[int, int]
    """The person of every reporter concerned (linked reporters are one person)."""
    recent: dict[Hashable, list[store.Recent]]
    """Open cases the batch's senders opened lately, by the ``signatures`` of who opened them:
    a report sent twice joins the first."""
    final: dict[int, CaseRef]
    """Each case above as it stands: a merged case is the case it went into."""

    def reply(self, key: tuple[str, str]) -> _Reply | None:
        """What a reply answers: a message of its own channel, or for a Message-ID (unique
        everywhere) a mail we sent by any channel (the web form mails its receipts)."""
        return self.replies.get(key) or (self.replies.get((ANY_CHANNEL, key[1])) if MAIL_ID in key[1] else None)

    def named(self, case: CaseRef | None, message: NormalizedMessage, *, known: bool = True) -> CaseRef | None:
        """The case a message names, as it stands now, when its sender is the reporter of the
        case named or of the case it was merged into; else None."""
        if case is None:
            return None
        now = self.final.get(case.id, case)
        sender_is = self.same_sender(case, message, known=known) or self.same_sender(now, message, known=known)
        return now if sender_is else None

    def same_sender(self, case: CaseRef, message: NormalizedMessage, *, known: bool = True) -> bool:
        """The message's sender is the case's reporter, or linked to them. With ``known``, an
        unknown sender is nobody's."""
        sender = message.reporter.reporter_id
        if sender is None or case.reporter_id is None:
            return not known and sender is None and case.reporter_id is None
        return self.persons.get(sender, sender) == self.persons.get(case.reporter_id, case.reporter_id)


def personal_key(message: NormalizedMessage) -> str:
    """The key of a case a second person opens on a conversation another person's case holds."""
    rid = message.reporter.reporter_id
    return (
        f"{message.conversation_key}#r{rid}"
        if rid is not None
        else f"{message.conversation_key}#m{message.raw_message_id}"
    )


def near_duplicate(text: str, other: str) -> bool:
    """The same report typed or sent again: equal but for case, spaces and punctuation, or
    nearly so (a letter fixed on the second try) with the same numbers in it."""
    a, b = (" ".join(_WORDS.findall(t.lower())) for t in (text, other))
    if not a or not b:
        return False
    if a == b:
        return True
    if _DIGITS.findall(a) != _DIGITS.findall(b):  # another building, another amount: another report
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= DUPLICATE_RATIO and matcher.ratio() >= DUPLICATE_RATIO


def signatures(reporter: dict[str, Any], anonymous: bool, persons: dict[int, int]) -> list[Hashable]:
    """Who sent a message, as far as telling a report sent twice goes: the person (linked
    reporters are one), and exactly the name and identities given (a double click on the web
    form makes two reporters of one typed address); each with whether it was anonymous (a report
    sent again without a name is not put on the named one). Two messages share one if from one
    sender."""
    signs: list[Hashable] = []
    rid = reporter.get("reporter_id")
    if rid is not None:
        signs.append(("person", persons.get(rid, rid), anonymous))
    given = frozenset((k, v) for k, v in reporter.items() if k in IDENTITY_FIELDS and v)
    if given:
        signs.append(("given", given, reporter.get("name"), anonymous))
    return signs


def reply_ids(message: NormalizedMessage) -> set[tuple[str, str]]:
    """The ids the message answers, with and without angle brackets (Message-IDs come both ways)."""
    ids: set[tuple[str, str]] = set()
    for given in message.in_reply_to:
        bare = given.strip().strip("<>").strip()
        if bare:
            ids |= {(message.channel, bare), (message.channel, f"<{bare}>")}
    return ids


def _replies(found: dict[tuple[str, str], store.Replied], cases: dict[int, CaseRef]) -> dict[tuple[str, str], _Reply]:
    replies: dict[tuple[str, str], _Reply] = {}
    for (channel, message_id), hit in found.items():
        if hit.case_id in cases:
            replies[(channel, message_id)] = _Reply(cases[hit.case_id], hit.sent_to)
            if MAIL_ID in message_id:
                replies.setdefault((ANY_CHANNEL, message_id), replies[(channel, message_id)])
    return replies


def _by_signature(recent: Sequence[store.Recent], known: dict[int, int]) -> dict[Hashable, list[store.Recent]]:
    indexed: dict[Hashable, list[store.Recent]] = {}
    for case in recent:
        for sign in signatures(case.record.get("reporter") or {}, bool(case.record.get("anonymous")), known):
            indexed.setdefault(sign, []).append(case)
    return indexed


def officer_recorded() -> frozenset[str]:
    """The installed channels whose connector declares ``recorded_by_officer``."""
    from connectors.registry import discover  # the connectors import the framework, not triage

    return frozenset(name for name, found in discover().items() if found.spec.recorded_by_officer)


class Threader:
    """Plans a batch: which messages join which case, which open one, which are kept without."""

    def __init__(
        self,
        tracking_prefix: str,
        window: timedelta,
        duplicate: timedelta = timedelta(minutes=10),
        mail_channels: frozenset[str] = frozenset(),
        recorded: frozenset[str] | None = None,
    ) -> None:
        self.prefix = tracking_prefix
        self.recorded = officer_recorded() if recorded is None else recorded
        """The channels whose messages an officer registered: never kept without a case."""
        self.window = window
        self.duplicate = duplicate
        self.mail_channels = mail_channels
        """The channels that may have sent a mail a Message-ID names (every channel that sends)."""

    def plan(self, connection: Connection, messages: Sequence[NormalizedMessage]) -> Plan:
        """Decide for the batch, in the order the messages came. Writes only the links that an
        answer to our mail proves (``_prove_answered_mail``)."""
        ordered = sorted(messages, key=lambda m: (m.received_at, m.raw_message_id))
        store.serialise_conversations(connection, (m.conversation_key for m in ordered))
        found = self._lookups(connection, ordered)
        batch = _Batch(Plan())
        for message in ordered:
            if message.extra.get(OPENED_BY):
                batch.plan.openings.append(self._promoted(message, found, batch.opening_of))
                continue
            command = None if message.channel in self.recorded else status_command(message)
            if command is not None:
                answer: Literal["status"] | None = None if message.automatic else "status"
                batch.plan.kept.append(Kept(message, "status", answer, command))
                continue
            self._prove_answered_mail(connection, message, found)
            joined, previous = self._existing(message, found)
            if joined is not None and (not joined.closed or message.automatic):
                batch.plan.joined.append(joined)
                continue
            self._place(message, previous, found, batch)
        plan, waiting = batch.plan, batch.waiting
        greeted = set(found.greeted)
        for message in waiting:
            key = message.conversation_key
            plan.kept.append(Kept(message, "nothing", None if key in greeted else "greeting"))
            greeted.add(key)
        return plan

    def _place(self, message: NormalizedMessage, previous: int | None, found: _Lookups, batch: _Batch) -> None:
        """A message no existing case takes: it joins a case this batch opened on its key, or a
        report it repeats; it is kept (a machine's), waits (nothing to act on), or opens a case."""
        key = self._case_key(message, found)
        opened = batch.opening_of.get(key)
        if opened is not None and opened.message.reporter.reporter_id != message.reporter.reporter_id:
            key = personal_key(message)
            opened = batch.opening_of.get(key)
        if opened is not None:
            opened.members.append(message)
            opened.reasons[message.raw_message_id] = "conversation"
        elif message.automatic:
            batch.plan.kept.append(Kept(message, "automatic", None))
        elif nothing_to_act_on(message) and message.channel not in self.recorded:
            batch.waiting.append(message)
        else:
            self._open_or_repeat(message, key, previous, found, batch)

    def _open_or_repeat(
        self, message: NormalizedMessage, key: str, previous: int | None, found: _Lookups, batch: _Batch
    ) -> None:
        """A message with something to act on: it joins the case a report it repeats opened, or
        opens a case on ``key``. Its sender's signatures are made once for both."""
        signs = signatures(message.reporter.model_dump(), message.anonymous, found.persons)
        twin = self._duplicate_of(message, found, batch, signs)
        if isinstance(twin, Opening):
            twin.members.append(message)
            twin.reasons[message.raw_message_id] = "duplicate"
        elif twin is not None:
            batch.plan.joined.append(twin)
        else:
            opening = Opening(message, key, previous, [message])
            batch.opening_of[key] = opening
            batch.plan.openings.append(opening)
            self._take_waiting(opening, batch.waiting)
            for sign in signs:
                batch.openers.setdefault(sign, []).append(opening)

    def _duplicate_of(
        self, message: NormalizedMessage, found: _Lookups, batch: _Batch, signs: list[Hashable]
    ) -> Opening | Joined | None:
        """The case the same report of the same sender opened moments ago (a double click, a
        chat sent again): the message joins it, and no second receipt goes out."""
        for opening in {id(o): o for sign in signs for o in batch.openers.get(sign, ())}.values():
            first = opening.message
            if message.received_at - first.received_at <= self.duplicate and near_duplicate(message.text, first.text):
                return opening
        for recent in (r for sign in signs for r in found.recent.get(sign, ())):
            if timedelta(0) <= message.received_at - recent.received_at <= self.duplicate and near_duplicate(
                message.text, recent.text
            ):
                return Joined(message, recent.case.id, "duplicate", {"tracking_number": recent.case.tracking_number})
        return None

    @staticmethod
    def _promoted(message: NormalizedMessage, found: _Lookups, opening_of: dict[str, Opening]) -> Opening:
        """An officer asked for a case (``triage.inbox``): it opens one whatever it says, and
        on a key of its own when its conversation has an open case already."""
        key = message.conversation_key
        if key in found.open or key in opening_of:
            key = f"{key}#m{message.raw_message_id}"
        return Opening(message, key, None, [message])

    def _existing(self, message: NormalizedMessage, found: _Lookups) -> tuple[Joined | None, int | None]:
        """The case the message names, by tracking number, reply or conversation, its sender
        being that case's reporter; a closed one is returned as such (``closed``)."""
        for number in found.numbers.get(message.raw_message_id, []):
            if (case := found.named(found.tracking.get(number), message)) is not None:
                return self._join(message, case, "tracking_number", {"tracking_number": number})
        for reply in sorted(reply_ids(message)):
            hit = found.reply(reply)
            if (case := found.named(hit.case if hit else None, message)) is not None:
                return self._join(message, case, "reply", {"in_reply_to": reply[1]})
        for cases in (found.open, found.closed):
            for key in (message.conversation_key, personal_key(message)):
                if (case := found.named(cases.get(key), message, known=False)) is not None:
                    return self._join(message, case, "conversation", {})
        return None, None

    @staticmethod
    def _prove_answered_mail(connection: Connection, message: NormalizedMessage, found: _Lookups) -> None:
        """An email address that received our mail and answers it is proven to be the person we
        wrote to: its reporter is linked to the case's reporter (then the reply threads)."""
        email, sender = message.reporter.email, message.reporter.reporter_id
        if not email or sender is None:
            return
        for reply in sorted(reply_ids(message)):
            hit = found.reply(reply)
            if hit is None or hit.case.reporter_id is None or (hit.sent_to or "").lower() != email.lower():
                continue
            if not found.same_sender(hit.case, message):
                evidence = {"identity": "email", "answered": reply[1]}
                link(connection, hit.case.reporter_id, sender, "proven", evidence, ACTOR)
                found.persons.update(persons(connection, [sender, hit.case.reporter_id, *found.persons]))
            return

    @staticmethod
    def _join(
        message: NormalizedMessage, case: CaseRef, reason: Reason, evidence: dict[str, Any]
    ) -> tuple[Joined, int | None]:
        return Joined(message, case.id, reason, evidence, closed=case.closed), case.id if case.closed else None

    @staticmethod
    def _case_key(message: NormalizedMessage, found: _Lookups) -> str:
        """The conversation key of a case the message would open: its own, unless another
        person's open case holds it."""
        holder = found.open.get(message.conversation_key)
        if holder is None or found.same_sender(holder, message, known=False):
            return message.conversation_key
        return personal_key(message)

    def _take_waiting(self, opening: Opening, waiting: list[NormalizedMessage]) -> None:
        """The messages with nothing to act on of the same person and conversation that came
        just before the opening one, each within the window of the next, join its case."""
        edge = opening.message.received_at
        taken: list[NormalizedMessage] = []
        for message in reversed(waiting):
            if (
                message.conversation_key != opening.message.conversation_key
                or message.reporter.reporter_id != opening.message.reporter.reporter_id
            ):
                continue
            if edge - message.received_at > self.window:
                break
            taken.append(message)
            edge = message.received_at
        for message in taken:
            waiting.remove(message)
            opening.reasons[message.raw_message_id] = "window"
        opening.members[:0] = sorted(taken, key=lambda m: (m.received_at, m.raw_message_id))

    def _lookups(self, connection: Connection, messages: Sequence[NormalizedMessage]) -> _Lookups:
        keys = {m.conversation_key for m in messages} | {personal_key(m) for m in messages}
        numbers = {m.raw_message_id: quoted_tracking_numbers(m, self.prefix) for m in messages}
        opened = store.open_by_conversation(connection, keys)
        closed = store.latest_closed_by_conversation(connection, keys - opened.keys())
        tracking = store.by_tracking_number(connection, {n for ns in numbers.values() for n in ns})
        asked = {r for m in messages for r in reply_ids(m)}
        asked |= {(channel, mid) for _, mid in asked if MAIL_ID in mid for channel in self.mail_channels}
        reply_cases = store.replied_to(connection, asked)
        refs = store.by_id(connection, (hit.case_id for hit in reply_cases.values()))
        every = {r.id: r for r in (*opened.values(), *closed.values(), *tracking.values(), *refs.values())}
        final = store.follow_merges(connection, every)
        reporters = {r.reporter_id for r in (*final.values(), *every.values())}
        earliest = min((m.received_at for m in messages), default=None)
        senders = {m.reporter.reporter_id for m in messages if m.reporter.reporter_id is not None}
        recent = store.recent_openings(connection, senders, earliest - self.duplicate) if earliest is not None else []
        recent_reporters = {r.case.reporter_id for r in recent}
        known = persons(connection, [*(m.reporter.reporter_id for m in messages), *reporters, *recent_reporters])
        greeted = (
            store.greeted_since(connection, {m.conversation_key for m in messages}, earliest - self.window)
            if earliest is not None
            else set()
        )
        return _Lookups(
            open=opened,
            closed=closed,
            tracking=tracking,
            replies=_replies(reply_cases, every),
            final=final,
            greeted=greeted,
            numbers=numbers,
            persons=known,
            recent=_by_signature(recent, known),
        )

    def loose_before(self, connection: Connection, openings: Sequence[Opening]) -> list[list[store.Loose]]:
        """For each opening: the messages kept without a case by earlier batches that its case
        takes (the burst's first messages, when they came within the window)."""
        firsts = [o.members[0] for o in openings]
        wanted = [(m.conversation_key, m.reporter.reporter_id, m.received_at) for m in firsts]
        return store.loose_before(connection, wanted, self.window.total_seconds())
