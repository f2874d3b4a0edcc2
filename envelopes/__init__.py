"""The records that pass between stages, versioned by their ``schema`` field.

This package depends on nothing else of the project: storage, connectors, the normalizer, triage
and the runtime in ``pipeline/`` all speak it.

A connector turns what its channel sends into a :class:`RawMessage` (stored untouched), its
parser turns that into a :class:`NormalizedMessage`, and triage writes :class:`OutboundMessage`
rows to the outbox. What travels on a queue is only a :class:`WorkItem`: which record, which step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Kind = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
KINDS: tuple[str, ...] = ("pengaduan", "aspirasi", "permintaan_informasi")
Step = Literal["normalize", "triage", "deliver"]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, hide_input_in_errors=True)


class BlobRef(_Record):
    """A large part kept in the blob store, addressed by its SHA-256."""

    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class MediaRef(_Record):
    """A media item the channel sent by reference (Meta and Telegram send ids, not bytes).

    The parser names it; the framework fetches it after storage through the connector's
    ``fetch_media``, keeps the bytes in the blob store and links them to the message, or records
    on the message why it could not be fetched.
    """

    media_id: str = Field(min_length=1, max_length=1024)
    kind: str = Field(default="file", max_length=32)
    """image, audio, voice, video, document, sticker, file: what the officer is told it was."""
    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=255)
    size: int | None = Field(default=None, ge=0)


class RawMessage(_Record):
    """What a channel delivered, kept exactly as it came for audit and re-processing."""

    schema_: Literal["satupintu.raw/1"] = Field(default="satupintu.raw/1", alias="schema")
    channel: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    external_id: str = Field(min_length=1, max_length=512)
    """The channel's own id for this message: with ``channel`` the idempotency key."""
    received_at: UtcDatetime
    content_type: str = Field(max_length=255)
    payload: bytes
    headers: dict[str, str] = Field(default_factory=dict)
    attachments: tuple[BlobRef, ...] = ()


class Reporter(_Record):
    """Who sent a message, as far as the channel tells us."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    """E.164, set by the normalizer from ``phone_raw`` when it is a valid number."""
    phone_raw: str | None = None
    channel_user_id: str | None = None
    handle: str | None = None
    reporter_id: int | None = None
    """Set by the normalizer once the identity is looked up."""


class ExternalRef(_Record):
    """The report's number on another complaint platform (SP4N-LAPOR!), kept beside ours and
    shown wherever ours is; a later copy whose ``status`` or ``disposition`` changed updates
    that platform's case once (``triage/external.py``)."""

    system: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    """Which platform: ``lapor``."""
    id: str = Field(min_length=1, max_length=64)
    """Its tracking ID, as that platform shows it."""
    status: str | None = Field(default=None, max_length=255)
    disposition: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=512)
    """Where officers post follow-ups (the platform answers the reporter, not us)."""


class NormalizedMessage(_Record):
    """One message in the unified shape every later stage reads."""

    schema_: Literal["satupintu.normalized/1"] = Field(default="satupintu.normalized/1", alias="schema")
    channel: str
    channel_message_id: str
    raw_message_id: int
    conversation_key: str
    """Messages with the same key belong to one open case (thread root, chat, number)."""
    in_reply_to: tuple[str, ...] = ()
    reporter: Reporter = Field(default_factory=Reporter)
    subject: str = ""
    text: str = ""
    html: str | None = None
    """Parsers may hand over HTML; the normalizer turns it into ``text`` and drops it."""
    attachments: tuple[BlobRef, ...] = ()
    media: tuple[MediaRef, ...] = ()
    """Items still to be fetched from the channel after storage (see :class:`MediaRef`)."""
    received_at: UtcDatetime
    language: str = "id"
    declared_kind: Kind | None = None
    """The kind the reporter chose, where the channel asks for one (the web form does)."""
    anonymous: bool = False
    """The reporter asked not to be named to the work unit."""
    automatic: bool = False
    """Sent by a machine, not a person (an auto-reply, out-of-office, bounce, read receipt): it
    joins its case when it threads, but never opens one and is never answered."""
    confidential: bool = False
    """The channel marks the report confidential (LAPOR!'s *rahasia*; a call the officer logged for
    Satgas PPKPT or SPI): its case is, whatever the text says."""
    external_ref: ExternalRef | None = None
    """The report's number on another platform (a LAPOR! import): copied to ``cases.external_ref``."""
    extra: dict[str, Any] = Field(default_factory=dict)


DeliveryState = Literal["sent", "delivered", "read", "failed"]


class DeliveryStatus(_Record):
    """What a channel reports about a message we sent: it updates that outbox row, found by the
    provider's message id, and never opens a case."""

    schema_: Literal["satupintu.status/1"] = Field(default="satupintu.status/1", alias="schema")
    channel: str
    raw_message_id: int
    provider_message_id: str = Field(min_length=1, max_length=512)
    status: DeliveryState
    at: UtcDatetime
    error_code: str | None = Field(default=None, max_length=64)
    error: str | None = None


Parsed = NormalizedMessage | DeliveryStatus | None
"""What a parser makes of one stored raw message: a message, a delivery status, or nothing (an
event type the connector ignores on purpose)."""


ReplyVia = Literal["conversation", "phone", "email"]


class Recipient(_Record):
    """Where a reply goes on its channel; ``via`` names the field that addresses it."""

    via: ReplyVia = "conversation"
    """``conversation``: the conversation the report came by, on its own channel
    (``conversation_key``, ``channel_user_id``, and the other fields it gave); ``phone``: the E.164
    ``phone`` (WhatsApp, SMS); ``email``: ``email``. Another channel than the report's is always
    addressed by ``phone`` or ``email``, and carries only that identity."""
    conversation_key: str
    email: str | None = None
    phone: str | None = None
    channel_user_id: str | None = None
    name: str | None = None
    raw_message_id: int | None = None


class OutboundMessage(_Record):
    """A message to a reporter, written to the outbox with the change that caused it."""

    schema_: Literal["satupintu.outbound/1"] = Field(default="satupintu.outbound/1", alias="schema")
    outbox_id: int
    case_id: int | None
    """None for an answer to a message kept without a case (a greeting, a status answer)."""
    channel: str
    purpose: Literal["receipt", "reply", "status", "survey", "greeting", "request", "report", "notice"]
    """``request``: what the report lacks, or an officer's question (the clock stops);
    ``report``: the follow-up report (produk pelayanan); ``notice``: to a work unit, not a reporter."""
    idempotency_key: str
    recipient: Recipient
    subject: str
    text: str
    in_reply_to: str | None = None
    last_inbound_at: UtcDatetime | None = None
    """When the reporter last wrote on this channel (their newest inbound case message on it),
    filled by the deliver stage: chat channels with a customer-service window (WhatsApp,
    Instagram) choose free text or a template from it. None: they never wrote on it."""
    tracking_number: str | None = None
    """The case's tracking number, for channels whose templates take it as a parameter."""
    case_status: str | None = None
    """The case's status when the message was claimed for sending (template parameters)."""


MAX_IDS_PER_ITEM = 500


class WorkItem(_Record):
    """A queue message: which records to work on and which step to do.

    One item names every record a transaction produced for one channel (up to 500), so that the
    queue's cost is paid per batch, not per message.
    """

    schema_: Literal["satupintu.work/1"] = Field(default="satupintu.work/1", alias="schema")
    step: Step
    record: Literal["raw_message", "outbox"]
    ids: tuple[Annotated[int, Field(gt=0)], ...] = Field(min_length=1, max_length=MAX_IDS_PER_ITEM)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


Addressed = tuple[WorkItem, str]
"""A work item with the channel it belongs to (which routes it)."""


def work_items(
    step: Step, record: Literal["raw_message", "outbox"], targets: Iterable[tuple[int, str]]
) -> list[Addressed]:
    """Pack ``(id, channel)`` pairs into as few work items as possible, one channel per item."""
    by_channel: dict[str, list[int]] = {}
    for record_id, channel in targets:
        by_channel.setdefault(channel, []).append(record_id)
    return [
        (WorkItem(step=step, record=record, ids=tuple(ids[start : start + MAX_IDS_PER_ITEM])), channel)
        for channel, ids in by_channel.items()
        for start in range(0, len(ids), MAX_IDS_PER_ITEM)
    ]


@dataclass(frozen=True, slots=True)
class Stored:
    """The outcome of storing one inbound message."""

    id: int
    created: bool
    """False when the channel sent the same message before (same channel + external id)."""
