"""What ``console.queries`` answers with: plain frozen records, shared by the API, the pages and
the live updates; the functions that read them are in ``inbox_reads``, ``case_reads`` and
``figures``, all reached through ``console.queries``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

MIN_SEARCH = 3
"""Shortest text searched: fewer letters match nearly everything and no trigram index serves them."""
MAX_LIMIT = 200
"""The largest page the inbox gives."""


class BadQuery(ValueError):
    """A filter or cursor the caller sent cannot be used; the message says why (answer 400)."""


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """What an officer narrows the inbox to; every field optional. Values are checked by
    ``inbox`` (an unknown status, a search shorter than ``MIN_SEARCH``: :class:`BadQuery`)."""

    status: str | None = None
    """One status of ``storage.models.CASE_STATUSES``; or ``"open"``: every status but closed and rejected."""
    channel: str | None = None
    kind: str | None = None
    unit: str | None = None
    """Ignored beyond the officer's scope: a unit officer sees their unit's cases whatever this says."""
    overdue: bool = False
    """Only cases with a deadline missed now (the clock running)."""
    confidential: bool | None = None
    assignee: str | None = None
    """An officer's name (the "mine" filter passes the officer's own)."""
    text: str | None = None
    """Words searched, as one substring, case-insensitively, in the subject and every message's text."""


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One line of the inbox."""

    id: int
    tracking_number: str
    subject: str
    kind: str
    unit: str
    status: str
    channel: str
    priority: str
    confidential: bool
    anonymous: bool
    assignee: str | None
    reporter_name: str | None
    """As the case's first message gave it; unmasked (mask with ``console.views.masked_summary``)."""
    received_at: datetime
    next_due: datetime | None
    """The next deadline that applies; None while the clock is stopped or the case is finished."""
    next_deadline: str | None
    """Which one: ``verify``, ``first_response``, ``resolution`` or ``final``."""
    overdue: bool
    updated_at: datetime
    external_ref: str | None = None


@dataclass(frozen=True, slots=True)
class InboxPage:
    items: list[CaseSummary]
    next_cursor: str | None
    """Give it back as ``cursor`` for the next page; None on the last page."""


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """A file of a message: stored with it, or media fetched from the channel after storage."""

    id: str
    """``a<n>`` (a stored attachment) or ``m<n>`` (fetched media): what ``attachment`` takes."""
    filename: str | None
    content_type: str | None
    size: int | None
    kind: str
    """``file``, or the channel's media kind (``image``, ``audio``, ``video``, ``document``...)."""
    state: str
    """``stored`` or ``fetched`` (downloadable); ``pending``/``fetching`` (not yet); ``failed``."""
    error: str | None = None

    @property
    def available(self) -> bool:
        return self.state in {"stored", "fetched"}


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """A message of the case's thread: inbound (a case message) or outbound (an outbox row)."""

    key: str
    """``in-<case_message id>`` or ``out-<outbox id>``: unique in the thread, stable."""
    message_id: int
    """The case message's id (inbound: what a split names) or the outbox row's id (outbound)."""
    direction: Literal["in", "out"]
    channel: str
    at: datetime
    subject: str
    text: str
    officer: str | None = None
    """Outbound: who wrote it (the actor of the action that wrote it in the same moment); None
    when no action did (the receipt triage wrote)."""
    purpose: str | None = None
    """Outbound: ``receipt``, ``reply``, ``ask``, ``resolve``, ``reject``, ``notice`` (to the unit)..."""
    to_reporter: bool = True
    """False for a notice to a unit (by email): not part of the conversation with the reporter."""
    state: str | None = None
    """Outbound: ``pending``, ``sending``, ``sent`` or ``dead`` (refused for good)."""
    delivery: str | None = None
    """Outbound, what the channel said later: ``sent``, ``delivered``, ``read`` or ``failed``."""
    delivery_at: datetime | None = None
    error: str | None = None
    """Why a send failed or was refused (redacted of identities)."""
    attachments: list[AttachmentInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeadlineInfo:
    name: str
    """``verify``, ``first_response``, ``resolution`` or ``final``."""
    due: datetime
    met_at: datetime | None
    running: bool
    """Not met, the case not finished and its clock not stopped."""
    left: timedelta | None
    """Time left (negative when missed) while it runs; None otherwise."""
    overdue: bool


@dataclass(frozen=True, slots=True)
class LinkedReporter:
    """Another reporter known to be the same person (a link in force)."""

    link_id: int
    reporter_id: int
    name: str | None
    source: str
    """``proven`` (a channel proved it) or ``officer`` (confirmed)."""
    created_at: datetime
    created_by: str
    identities: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class SuggestedLink:
    """An identity this case's reporter gave that another reporter has: for an officer to confirm
    (``storage.identities.link``) or dismiss."""

    claim_id: int
    kind: str
    value: str
    other_id: int
    other_name: str | None
    other_cases: list[str]
    """The other reporter's cases, by tracking number."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReporterInfo:
    id: int
    name: str | None
    """The name the case's own first message gave."""
    email: list[str]
    phone: list[str]
    channel_user: list[str]
    """The identities the case's own messages gave (``storage.cases.case_reporter``)."""
    linked: list[LinkedReporter]
    suggestions: list[SuggestedLink]
    hidden: bool = False
    """True once masked (``console.views.masked_detail``): everything above is blanked."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    """The officer's name, or ``system:...``, ``reporter``, ``cli:<login>``."""
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: dict[str, Any]
    """The case row as stored (every column of ``cases``)."""
    thread: list[ThreadEntry]
    """Inbound and outbound messages of every channel, oldest first."""
    reporter: ReporterInfo | None
    deadlines: list[DeadlineInfo]
    routing_rules: list[str]
    """Which rules decided kind and unit (``cases.routing_rules``)."""
    events: list[AuditEntry]
    """The audit trail, oldest first."""
    previous_case: str | None = None
    """The closed case this one follows, by tracking number."""
    merged_into: str | None = None
    related: list[str] = field(default_factory=list)
    """Cases merged into this one, or split from it, by tracking number."""
    queue_visits: list[QueueVisit] = field(default_factory=list)
    """The walk-in visits of the case, with the queue number each had."""


@dataclass(frozen=True, slots=True)
class QueueVisit:
    """A walk-in visit's queue number, and what the queue knows of it (nothing for a number
    written by hand while the queue was off)."""

    number: str
    day: str
    counter: str | None
    waited: timedelta | None
    """From taking the number to its first call."""


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    """Where an attachment's bytes are: ``storage.blobs.BlobStore(settings.blob_dir).get(sha256)``."""

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    case_id: int
    tracking_number: str
    confidential: bool


@dataclass(frozen=True, slots=True)
class DeadlineStats:
    """One deadline's record over a period: met in time, met late, missed and still running."""

    name: str
    met: int
    late: int
    missed_open: int


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: str
    last_inbound: datetime | None
    red: bool
    reasons: list[str]
    """Why it is red: ``silent`` (nothing in for longer than allowed), ``auth_failed`` (the token
    expired or was refused), ``send_down`` (delivery fails for good), with the channel's words."""


@dataclass(frozen=True, slots=True)
class Dashboard:
    open_by_unit: dict[str, int]
    open_by_channel: dict[str, int]
    overdue: list[CaseSummary]
    """The most overdue open cases first (at most ``DASHBOARD_OVERDUE``)."""
    overdue_count: int
    month_start: datetime
    deadlines: list[DeadlineStats]
    """This month so far (the unit's zone), per deadline."""
    skm: list[Any]
    """``triage.survey.Index`` per unit (and of all units together when the scope is all) for the
    surveys answered this month."""
    channels: list[ChannelHealth]
    overdue_capped: bool = False
    """``overdue_count`` stopped at ``OVERDUE_COUNT_CAP`` (show it as "1000+")."""


DASHBOARD_OVERDUE = 20
OVERDUE_COUNT_CAP = 1000
"""Overdue cases are counted up to this many: each is read to test its deadlines, and beyond it
the number tells an officer nothing more."""


@dataclass(frozen=True, slots=True)
class NewMessage:
    tracking_number: str
    message_key: str
    """As ``ThreadEntry.key``."""
    direction: Literal["in", "out"]
    channel: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Changes:
    cases: list[CaseSummary]
    """Cases created since the cursor, oldest first."""
    messages: list[NewMessage]
    """Messages (in and out) of the officer's cases since the cursor, oldest first."""
    cursor: str
    """Give it back for what comes next; with ``cursor=None`` nothing is listed, only this."""
