"""SQLModel tables: the database is the truth of what arrived and how far it got.

Unique constraints make every step idempotent: ``(channel, external_id)`` for what arrives,
``raw_message_id`` for what is threaded into a case, ``idempotency_key`` for what goes out,
and one open case per conversation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# Progress states. A row moves forward only; "dead" rows wait for an operator's replay.
RAW_RECEIVED = "received"
RAW_NORMALIZED = "normalized"
RAW_TRIAGED = "triaged"
RAW_IGNORED = "ignored"
RAW_DEAD = "dead"
RAW_STATUS = "status"
"""A delivery status from the channel (sent, delivered, read, failed), applied to the outbox."""

CASE_RECEIVED = "received"
CASE_VERIFYING = "verifying"
CASE_WAITING = "waiting_reporter"
CASE_FORWARDED = "forwarded"
CASE_IN_PROGRESS = "in_progress"
CASE_RESOLVED = "resolved"
CASE_CLOSED = "closed"
CASE_REJECTED = "rejected"
CASE_STATUSES: tuple[str, ...] = (
    CASE_RECEIVED,
    CASE_VERIFYING,
    CASE_WAITING,
    CASE_FORWARDED,
    CASE_IN_PROGRESS,
    CASE_RESOLVED,
    CASE_CLOSED,
    CASE_REJECTED,
)
"""Every status a case can have (the procedure's lifecycle: ``triage/lifecycle.py``)."""

OUTBOX_PENDING = "pending"
OUTBOX_SENDING = "sending"
OUTBOX_SENT = "sent"
OUTBOX_DEAD = "dead"

# What the channel later said of a sent message (``outbox.delivery_state``); only moves forward.
DELIVERY_SENT = "sent"
DELIVERY_DELIVERED = "delivered"
DELIVERY_READ = "read"
DELIVERY_FAILED = "failed"

MEDIA_PENDING = "pending"
MEDIA_FETCHING = "fetching"
MEDIA_FETCHED = "fetched"
MEDIA_FAILED = "failed"

# A channel user's profile, looked up after storage (``reporter_profile.state``).
PROFILE_PENDING = "pending"
PROFILE_FETCHING = "fetching"
PROFILE_FOUND = "found"
PROFILE_FAILED = "failed"

# The sweeper's indexes cover only unfinished rows: they stay small as the tables grow, and the
# planner never prefers them to the primary key for a single-row update.


class Unit(SQLModel, table=True):
    """A work unit (unit kerja) cases are routed to; synced from routing.toml."""

    __tablename__ = "unit"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=255)
    sensitive: bool = False


class RawMessageRow(SQLModel, table=True):
    """A message exactly as its channel delivered it, with how far the pipeline got."""

    __tablename__ = "raw_message"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_raw_message_channel_external_id"),
        Index(
            "ix_raw_message_unfinished_queued_at",
            "queued_at",
            postgresql_where=text("state IN ('received', 'normalized')"),
            sqlite_where=text("state IN ('received', 'normalized')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=64)
    external_id: str = Field(max_length=512)
    received_at: datetime
    content_type: str = Field(max_length=255)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attachments: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=RAW_RECEIVED, max_length=16)
    queued_at: datetime
    """When a work item for this row was last published; the sweeper re-publishes stale ones."""
    attempts: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    normalized: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)


class ReporterRow(SQLModel, table=True):
    """A person who reported, known by one or more identities across channels."""

    __tablename__ = "reporter"

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = Field(default=None, max_length=255)
    created_at: datetime
    person_id: int | None = Field(default=None, index=True)
    """Reporters linked into one person (``reporter_link``) share the smallest id among them; None:
    the reporter is a person alone. Threading and status answers compare persons."""


class ReporterIdentity(SQLModel, table=True):
    """One way to reach a reporter: an email, an E.164 phone, or a channel's user id."""

    __tablename__ = "reporter_identity"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_reporter_identity_kind_value"),)

    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporter.id", index=True)
    kind: str = Field(max_length=16)
    value: str = Field(max_length=320)
    proven: bool = True
    """The channel proved it (a WhatsApp wa_id, an SMS sender, a chat account, an email's sender,
    a Telegram contact shared about oneself); False for one typed by an officer or into a form,
    which a proven message of the same identity takes over (``storage/identities.py``)."""


class IdentityClaim(SQLModel, table=True):
    """An identity a message gave that belongs to another reporter: an officer's suggestion to
    confirm (``satupintu identities suggestions``), never a link by itself."""

    __tablename__ = "identity_claim"
    __table_args__ = (UniqueConstraint("reporter_id", "kind", "value", name="uq_identity_claim_reporter_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporter.id", index=True)
    kind: str = Field(max_length=16)
    value: str = Field(max_length=320, index=True)
    raw_message_id: int | None = Field(default=None, foreign_key="raw_message.id")
    created_at: datetime
    dismissed_at: datetime | None = None
    dismissed_by: str | None = Field(default=None, max_length=128)


class ReporterLink(SQLModel, table=True):
    """Two reporters known to be one person: proven by a channel, or confirmed by an officer.
    Removing it (``removed_at``) undoes it."""

    __tablename__ = "reporter_link"

    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporter.id", index=True)
    other_id: int = Field(foreign_key="reporter.id", index=True)
    source: str = Field(max_length=16)
    """``proven`` (automatic, on what a channel proved) or ``officer``."""
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    created_by: str = Field(max_length=128)
    removed_at: datetime | None = None
    removed_by: str | None = Field(default=None, max_length=128)


def _unless_met(done: str, due: str) -> str:
    return f"    CASE\n        WHEN {done} IS NULL THEN {due}\n        ELSE NULL::timestamp with time zone\n    END"


NEXT_DUE_SQL = (
    "\nCASE\n    WHEN closed_at IS NULL AND paused_at IS NULL THEN LEAST(\n"
    + ",\n".join(
        _unless_met(done, due)
        for done, due in (
            ("forwarded_at", "verify_due"),
            ("first_response_at", "first_response_due"),
            ("resolved_at", "resolution_due"),
            ("resolved_at", "final_due"),
        )
    )
    + ")\n    ELSE NULL::timestamp with time zone\nEND"
)
"""A case's next deadline on PostgreSQL (``triage.deadlines.next_deadline`` in SQL): the earliest
not met while the clock runs; NULL when it is stopped or the case finished. The console's inbox
is sorted by it (``console/queries.py``). Written as PostgreSQL prints it back, so that the
migrations' test finds the indexes on it equal to these."""


class Case(SQLModel, table=True):
    """One matter, worked by officers, whatever mix of channels it came by."""

    __tablename__ = "cases"
    __table_args__ = (
        Index(
            "uq_cases_open_conversation",
            "conversation_key",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_cases_unit_status", "unit", "status"),
        Index(
            "ix_cases_closed_conversation",
            "conversation_key",
            sqlite_where=text("closed_at IS NOT NULL"),
            postgresql_where=text("closed_at IS NOT NULL"),
        ),
        Index("uq_cases_channel_external_ref", "channel", "external_ref", unique=True),
        # The console's inbox (migration 0010, PostgreSQL only: SQLite cannot compare or use them).
        Index("ix_cases_next_due", text(f"({NEXT_DUE_SQL})"), "id").ddl_if(dialect="postgresql"),
        Index("ix_cases_unit_next_due", "unit", text(f"({NEXT_DUE_SQL})"), "id").ddl_if(dialect="postgresql"),
        Index("ix_cases_assignee_next_due", "assignee", text(f"({NEXT_DUE_SQL})"), "id").ddl_if(dialect="postgresql"),
        # The dashboard (migration 0010, both databases): open cases per unit and channel, and
        # those closed since a date, without reading the finished years.
        Index(
            "ix_cases_open_unit_channel",
            "unit",
            "channel",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index(
            "ix_cases_closed_at",
            "closed_at",
            sqlite_where=text("closed_at IS NOT NULL"),
            postgresql_where=text("closed_at IS NOT NULL"),
        ),
        Index(
            "ix_cases_subject_trgm",
            text("lower(subject) gin_trgm_ops"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tracking_number: str = Field(max_length=32, unique=True)
    kind: str = Field(max_length=32)
    category: str | None = Field(default=None, max_length=64)
    unit: str = Field(foreign_key="unit.key", max_length=64)
    status: str = Field(default=CASE_RECEIVED, max_length=32)
    priority: str = Field(default="normal", max_length=16)
    confidential: bool = False
    anonymous: bool = False
    complete: bool = True
    reporter_id: int | None = Field(default=None, foreign_key="reporter.id", index=True)
    reporter_name: str | None = Field(default=None, max_length=255)
    """The name the case's own first message gave (None when it gave none): a phone shared by
    two people does not put one person's name on the other's case."""
    channel: str = Field(max_length=64)
    conversation_key: str = Field(max_length=512)
    receipt_via: str | None = Field(default=None, max_length=64)
    """The channel the receipt went by; None when no channel can reach the reporter and the
    tracking number must be given in person or by phone."""
    subject: str = Field(default="", sa_column=Column(Text, nullable=False))
    routing_rules: str = Field(default="", sa_column=Column(Text, nullable=False))
    """Which rules decided kind and unit, so officers see why it was routed there."""
    received_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    # Threading (migration 0005, ``triage/threading.py``, ``triage/merge.py``).
    previous_case_id: int | None = Field(default=None, foreign_key="cases.id")
    """The closed case this one follows: its reporter wrote again on it after it was closed."""
    merged_into_id: int | None = Field(default=None, foreign_key="cases.id")
    """Set when an officer merged this case into another (closed since; undoable)."""
    # The lifecycle and its deadlines (migration 0004, ``triage/lifecycle.py``, ``triage/deadlines.py``).
    language: str = Field(default="id", max_length=8)
    """The reporter's language (``id`` or ``en``): the replies' templates are chosen by it."""
    assignee: str | None = Field(default=None, max_length=128)
    """The officer of the unit the case is assigned to."""
    verify_due: datetime | None = None
    """Verification and forwarding to the unit due (working days from the receipt day)."""
    final_due: datetime | None = None
    """The legal ceiling: 60 days from the day the file is complete (Perpres 76/2013)."""
    file_complete_at: datetime | None = None
    """When the file became complete: the resolution and the legal clocks start here."""
    missing: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    """The required contents the reporter was asked for and has not given yet."""
    checklist: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    """The verification steps done: step -> {by, at, note}."""
    paused_at: datetime | None = None
    """Set while the case waits for the reporter: the clock is stopped since then."""
    paused_status: str | None = Field(default=None, max_length=32)
    """The status the case returns to when the reporter answers."""
    forwarded_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    extended: bool = False
    """The resolution deadline was extended (once only, with a recorded reason)."""
    # Off-line channels (migration 0006, ``triage/external.py``).
    external_ref: str | None = Field(default=None, max_length=64)
    """The report's tracking ID on the platform it came from (SP4N-LAPOR!), shown beside ours."""


class CaseMessage(SQLModel, table=True):
    """A message in a case's thread, inbound or outbound, from any channel."""

    __tablename__ = "case_message"
    __table_args__ = (
        Index("ix_case_message_channel_message_id", "channel", "channel_message_id"),
        # The console's text search (migration 0010, PostgreSQL only).
        Index("ix_case_message_text_trgm", text("lower(text) gin_trgm_ops"), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    raw_message_id: int | None = Field(default=None, foreign_key="raw_message.id", unique=True)
    channel_message_id: str | None = Field(default=None, max_length=512)
    """The channel's id of the message (an email's Message-ID, a WhatsApp wamid): replies name it."""
    direction: str = Field(default="in", max_length=8)
    channel: str = Field(max_length=64)
    subject: str = Field(default="", sa_column=Column(Text, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    received_at: datetime


class Attachment(SQLModel, table=True):
    """A file that came with a message; its bytes are in the blob store under ``sha256``."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    case_message_id: int = Field(foreign_key="case_message.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int
    sha256: str = Field(max_length=64)


class CaselessMessage(SQLModel, table=True):
    """A message kept without a case (``triage/threading.py``): nothing to act on ("halo", a
    sticker), a machine's message that threads nowhere, or a status command. Officers list them
    and can turn one into a case; a later message of the same burst may pull it into its case."""

    __tablename__ = "caseless_message"
    __table_args__ = (Index("ix_caseless_message_conversation", "conversation_key", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    raw_message_id: int = Field(foreign_key="raw_message.id", unique=True)
    channel: str = Field(max_length=64)
    conversation_key: str = Field(max_length=512)
    reporter_id: int | None = Field(default=None, foreign_key="reporter.id")
    reason: str = Field(max_length=16)
    """``nothing`` (nothing to act on), ``automatic`` (threads nowhere) or ``status`` (a command)."""
    answer: str | None = Field(default=None, max_length=16)
    """What it was answered with: ``greeting``, ``status``, or None."""
    subject: str = Field(default="", sa_column=Column(Text, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    received_at: datetime
    created_at: datetime
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    """The case it joined later: pulled in by its burst, or turned into one by an officer."""
    handled_by: str | None = Field(default=None, max_length=128)
    """Who or what gave it its case (``system:triage`` for a burst, the officer otherwise)."""
    handled_at: datetime | None = None


class CaseMove(SQLModel, table=True):
    """An officer's merge or split of cases, with what moved, so that it can be undone."""

    __tablename__ = "case_move"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)
    """``merge``: every message of ``source`` went into ``target`` (source closed, merged into
    it); ``split``: some messages of ``source`` went into ``target``, a case made for them."""
    source_case_id: int = Field(foreign_key="cases.id", index=True)
    target_case_id: int = Field(foreign_key="cases.id", index=True)
    case_message_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: datetime
    actor: str = Field(max_length=128)
    undone_at: datetime | None = None
    undone_by: str | None = Field(default=None, max_length=128)


class Outbox(SQLModel, table=True):
    """A message to a reporter, written in the same transaction as the change behind it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unfinished_queued_at",
            "queued_at",
            postgresql_where=text("state IN ('pending', 'sending')"),
            sqlite_where=text("state IN ('pending', 'sending')"),
        ),
        Index("ix_outbox_channel_provider_message_id", "channel", "provider_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    """None for an answer to a message without a case (a greeting, a status answer to a stranger)."""
    channel: str = Field(max_length=64)
    purpose: str = Field(max_length=16)
    idempotency_key: str = Field(max_length=255, unique=True)
    recipient: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    subject: str = Field(default="", sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    in_reply_to: str | None = Field(default=None, max_length=512)
    state: str = Field(default=OUTBOX_PENDING, max_length=16)
    attempts: int = 0
    queued_at: datetime
    next_attempt_at: datetime
    provider_message_id: str | None = Field(default=None, max_length=512)
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    sent_at: datetime | None = None
    lease_token: str | None = Field(default=None, max_length=64)
    """Set by the worker that claimed the row for sending; only that worker writes its outcome."""
    lease_expires_at: datetime | None = None
    """Until when the claim holds: longer than a send can take; the sweeper leaves a live lease alone."""
    delivery_state: str | None = Field(default=None, max_length=16)
    """What the channel said after accepting it: sent, delivered, read or failed."""
    delivery_state_at: datetime | None = None
    delivery_error: str | None = Field(default=None, sa_column=Column(Text))


class DeliveryStatusRow(SQLModel, table=True):
    """Every status a channel reported for a message we sent, kept even when it arrives before
    our own record of the provider's id (a webhook can be faster than our commit)."""

    __tablename__ = "delivery_status"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id", "status", name="uq_delivery_status_channel_provider_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=64)
    provider_message_id: str = Field(max_length=512)
    status: str = Field(max_length=16)
    at: datetime
    error_code: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, sa_column=Column(Text))
    raw_message_id: int | None = Field(default=None, foreign_key="raw_message.id")


class MediaRow(SQLModel, table=True):
    """A media item a channel sent by reference (an id, not bytes), fetched after storage."""

    __tablename__ = "media"
    __table_args__ = (
        UniqueConstraint("raw_message_id", "position", name="uq_media_raw_message_position"),
        Index(
            "ix_media_unfinished_next_attempt_at",
            "next_attempt_at",
            postgresql_where=text("state IN ('pending', 'fetching')"),
            sqlite_where=text("state IN ('pending', 'fetching')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    raw_message_id: int = Field(foreign_key="raw_message.id", index=True)
    position: int
    channel: str = Field(max_length=64)
    media_id: str = Field(max_length=1024)
    kind: str = Field(default="file", max_length=32)
    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=255)
    size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    state: str = Field(default=MEDIA_PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime
    lease_token: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    fetched_at: datetime | None = None


class ReporterProfileRow(SQLModel, table=True):
    """What a channel says of one of its users (the name behind an Instagram IGSID), asked once
    per identity after storage by the channel's ``profile`` role (``pipeline/profiles.py``): the
    cache the normalizer names that user's later messages from, and a failure kept, not retried."""

    __tablename__ = "reporter_profile"
    __table_args__ = (
        UniqueConstraint("channel", "channel_user_id", name="uq_reporter_profile_channel_user"),
        Index(
            "ix_reporter_profile_unfinished_next_attempt_at",
            "next_attempt_at",
            postgresql_where=text("state IN ('pending', 'fetching')"),
            sqlite_where=text("state IN ('pending', 'fetching')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=64)
    channel_user_id: str = Field(max_length=255)
    raw_message_id: int = Field(foreign_key="raw_message.id")
    """The first message that asked: the lookup waits until triage has made its case."""
    state: str = Field(default=PROFILE_PENDING, max_length=16)
    name: str | None = Field(default=None, max_length=255)
    handle: str | None = Field(default=None, max_length=255)
    attempts: int = 0
    next_attempt_at: datetime
    lease_token: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    looked_up_at: datetime | None = None


class Lease(SQLModel, table=True):
    """Who runs a singleton loop (a pull connector's account) right now, and until when."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=255)
    holder: str = Field(max_length=255)
    """host:pid of the process, for operators ("held by ...")."""
    token: str = Field(max_length=64)
    acquired_at: datetime
    expires_at: datetime


class CaseEvent(SQLModel, table=True):
    """The audit trail: who changed what on a case, and when."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CaseAlert(SQLModel, table=True):
    """A warning before a deadline or an escalation after its breach, raised once per due moment."""

    __tablename__ = "case_alert"
    __table_args__ = (UniqueConstraint("case_id", "deadline", "level", "due", name="uq_case_alert_once"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    deadline: str = Field(max_length=32)
    """verify, first_response, resolution or final."""
    level: str = Field(max_length=16)
    """warning or breach."""
    due: datetime
    at: datetime


class UnitInboxRow(SQLModel, table=True):
    """What a work unit is told: a case forwarded to it, an escalation of one of its cases."""

    __tablename__ = "unit_inbox"

    id: int | None = Field(default=None, primary_key=True)
    unit: str = Field(foreign_key="unit.key", max_length=64, index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str = Field(max_length=32)
    at: datetime
    seen_at: datetime | None = None


class SurveyRow(SQLModel, table=True):
    """The satisfaction survey (SKM) of one resolved case: sent once, answered once."""

    __tablename__ = "survey"

    case_id: int = Field(primary_key=True, foreign_key="cases.id")
    token: str = Field(max_length=64, unique=True)
    """The full form's address on the public pages (``/survei/<token>``): unguessable."""
    unit: str = Field(max_length=64)
    channel: str = Field(max_length=64)
    sent_at: datetime
    answered_at: datetime | None = None
    answered_via: str | None = Field(default=None, max_length=64)


class SurveyAnswer(SQLModel, table=True):
    """One element's score (1-4) in one survey (PermenPANRB 14/2017)."""

    __tablename__ = "survey_answer"

    case_id: int = Field(primary_key=True, foreign_key="survey.case_id")
    element: int = Field(primary_key=True, ge=1, le=9)
    score: int = Field(ge=1, le=4)


class ConnectorState(SQLModel, table=True):
    """A connector's cursors (IMAP UID, Telegram offset, import ledger positions)."""

    __tablename__ = "connector_state"

    channel: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime


class TrackingCounter(SQLModel, table=True):
    """The last tracking sequence number issued in a year."""

    __tablename__ = "tracking_counter"

    scope: str = Field(primary_key=True, max_length=16)
    value: int = 0


# --- the officers' console (issue 20): logins, sessions, API tokens -------------------------------


class OfficerRow(SQLModel, table=True):
    """Someone who logs in to the console: a role, and for a unit officer the unit whose cases they see."""

    __tablename__ = "officer"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    """The login name, also the officer's name in the audit trail."""
    role: str = Field(max_length=16)
    """admin, ult, unit or auditor."""
    unit: str | None = Field(default=None, foreign_key="unit.key", max_length=64)
    language: str = Field(default="id", max_length=8)
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    """argon2id, in the PHC string format (salt and parameters included)."""
    created_at: datetime
    password_changed_at: datetime
    disabled_at: datetime | None = None
    """Set by ``officers disable``: no login, and every session and token of theirs stops working."""


class OfficerSession(SQLModel, table=True):
    """A console login: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "officer_session"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
    expires_at: datetime
    """The absolute end (``[console] session_hours``); idleness ends it sooner."""
    seen_at: datetime


class OfficerToken(SQLModel, table=True):
    """An API token for an integration (``officers token NAME``), kept as its SHA-256."""

    __tablename__ = "officer_token"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


# --- the walk-in desk's queue numbers (issue 21) ----------------------------------------------------


class QueueDay(SQLModel, table=True):
    """One counter's queue on one day (in the unit's zone): the numbers given so far and the calls
    made. Every change to that queue first updates this row, so that two officers taking numbers
    or calling at once wait for each other instead of giving one number twice."""

    __tablename__ = "queue_day"
    __table_args__ = (UniqueConstraint("counter", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    counter: str = Field(max_length=32)
    day: str = Field(max_length=10)
    """ISO date in the unit's zone: numbering restarts each day."""
    taken: int = 0
    """The last number given (A007 → 7)."""
    calls: int = 0
    """Calls made at this counter today: a display announces each one once."""


class QueueTicket(SQLModel, table=True):
    """A queue number handed to a visitor, from taking to being served or set aside."""

    __tablename__ = "queue_ticket"
    __table_args__ = (
        UniqueConstraint("counter", "day", "number"),
        Index("ix_queue_ticket_line", "counter", "day", "state", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    counter: str = Field(max_length=32)
    day: str = Field(max_length=10)
    number: str = Field(max_length=16)
    """The prefix and three digits: ``A012``."""
    position: int
    """The order among the waiting: taken numbers at the end, a returning visitor after a few."""
    state: str = Field(max_length=16)
    """waiting, called, set_aside or served."""
    taken_at: datetime
    taken_by: str | None = Field(default=None, max_length=64)
    called_at: datetime | None = None
    """The first call: the visitor's waiting time ends here."""
    last_called_at: datetime | None = None
    calls: int = 0
    """Calls since the number was last called anew (the three-call rule counts these)."""
    set_aside_at: datetime | None = None
    times_set_aside: int = 0
    returned_at: datetime | None = None
    served_at: datetime | None = None
    served_by: str | None = Field(default=None, max_length=64)
