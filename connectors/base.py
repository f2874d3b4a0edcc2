"""The connector contract: the one module a connector imports from the project.

A connector is one folder, ``connectors/<name>/``, whose ``__init__.py`` exports ``CONNECTOR``, a
:class:`Connector` subclass. It declares its :class:`ConnectorSpec` and config model, has a pure
parser, ``parse()`` (stored raw message -> normalized message or delivery status, no I/O), and
takes on the roles it needs, each a mixin with its own methods:

* :class:`WebhookInbound` (``"webhook"``): webhook endpoints declared as data
  (:class:`WebhookEndpoint`); the framework reads, verifies, splits, stores and answers;
* :class:`PullInbound` (``"pull"``): ``fetch()`` a page after a cursor; the framework runs one loop
  per source under a lease, and keeps the cursor;
* :class:`ImportInbound` (``"import"``): ``read_import()`` yields rows of a file; the framework
  stores them and reports each row;
* :class:`Outbound` (``"send"``): ``send()`` a reply and return the provider's message id;
* :class:`MediaSource` (``"media"``): ``fetch_media()`` the bytes of an item the channel sent by
  reference, after storage;
* :class:`ProfileSource` (``"profile"``): ``fetch_profile()`` the name behind a channel user id the
  webhook gave alone (an Instagram IGSID), asked once per identity after storage.

An inbound-only connector (a phone log) simply has no :class:`Outbound` role: there is no
``send`` to fake. The registry checks the declared roles against the mixins the class has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, Protocol, Self, TypeVar, get_args
from zoneinfo import ZoneInfo

import orjson
from aiohttp import StreamReader, web
from pydantic import BaseModel, ConfigDict, SecretBytes, SecretStr, ValidationError

from connectors.pages import page_templates, size_text
from envelopes import (
    KINDS,
    BlobRef,
    DeliveryStatus,
    MediaRef,
    NormalizedMessage,
    OutboundMessage,
    Parsed,
    RawMessage,
    Recipient,
    Reporter,
    Stored,
)
from normalizer.rules import CONTROL
from pipeline.errors import json_error

__all__ = [
    "CONTROL",
    "EVENT_HEADER",
    "KINDS",
    "ROLE_MIXINS",
    "AnomalousPayload",
    "BlobRef",
    "Connector",
    "ConnectorAuthFailed",
    "ConnectorConfig",
    "ConnectorConfigError",
    "ConnectorError",
    "ConnectorNotReady",
    "ConnectorSpec",
    "DeliveryStatus",
    "FetchResult",
    "FetchedMedia",
    "HmacSignature",
    "ImportInbound",
    "ImportRow",
    "Ingest",
    "Mailer",
    "MalformedWebhook",
    "MediaRef",
    "MediaSource",
    "MediaTooLarge",
    "MediaUnavailable",
    "MessageStatus",
    "NormalizedMessage",
    "Outbound",
    "OutboundMessage",
    "Parsed",
    "PermanentSendError",
    "ProfileSource",
    "ProfileUnavailable",
    "PullInbound",
    "RawMessage",
    "ReceiptStatus",
    "Recipient",
    "RejectedRow",
    "Reporter",
    "ReporterProfile",
    "Role",
    "SecretHeader",
    "SendResult",
    "SignatureInvalid",
    "Stored",
    "StoredMessage",
    "TransientSendError",
    "UnsupportedEvent",
    "Unverified",
    "Verification",
    "VerifyToken",
    "WebhookEndpoint",
    "WebhookInbound",
    "WebhookRequest",
    "event_of",
    "json_error",
    "json_message",
    "page_templates",
    "read_capped",
    "size_text",
]


# --- errors: the policy for each is fixed by the framework ------------------------------------


class ConnectorError(Exception):
    """Base of every error a connector raises on purpose."""


class ConnectorConfigError(ConnectorError):
    """The connector's config section is missing something or has a bad value."""


class ConnectorNotReady(ConnectorError):
    """A transient failure reaching the channel: retried with backoff."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        """Seconds the channel asked us to wait (HTTP Retry-After): a media fetch waits at least that."""


class ConnectorAuthFailed(ConnectorError):
    """The channel refused our credentials: the loop backs off long and its health turns red."""


class SignatureInvalid(ConnectorError):
    """A webhook request is forged or unsigned: answered 401/403, nothing is stored."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.missing = missing
        """True when no signature came at all (401); False when one came and is wrong (403)."""


class MalformedWebhook(ConnectorError):
    """A verified webhook body does not have the channel's documented shape: 400 with the reason."""


class UnsupportedEvent(ConnectorError):
    """The parser does not handle this event type: the raw message is kept and marked ignored."""


class AnomalousPayload(ConnectorError):
    """The payload does not match the channel's documented shape: parked as dead with the reason."""


class TransientSendError(ConnectorError):
    """Sending failed but may work later (timeout, 5xx, rate limit): retried with backoff."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        """Seconds the provider asked us to wait (HTTP Retry-After, Telegram's retry_after)."""


class PermanentSendError(ConnectorError):
    """Sending can never work as it is (blocked, invalid recipient): parked as dead."""

    def __init__(self, reason: str, *, code: str | None = None, channel_down: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        """The provider's error code (Meta's 131047, Telegram's 403), shown on the case."""
        self.channel_down = channel_down
        """True when no message on this channel can go (an expired token): health turns red."""


class MediaUnavailable(ConnectorError):
    """A media item can never be fetched (expired, deleted): recorded on the message, not retried."""


class ProfileUnavailable(ConnectorError):
    """The channel will not say who a user is (no permission, no consent, an unknown id): kept on
    the identity's profile row and never asked again."""


class MediaTooLarge(MediaUnavailable):
    """A media item over ``[pipeline] max_media_bytes``: failed, never stored, not retried."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"larger than the {max_bytes:,}-byte limit")


MEDIA_CHUNK_BYTES = 64 * 1024


async def read_capped(stream: StreamReader, max_bytes: int, content_length: int | None = None) -> bytes:
    """A response body of at most ``max_bytes``: :class:`MediaTooLarge` as soon as more comes
    (at once when ``content_length`` says so), so an oversized item is never held in memory whole."""
    if content_length is not None and content_length > max_bytes:
        raise MediaTooLarge(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(MEDIA_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise MediaTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


# --- data --------------------------------------------------------------------------------------

Role = Literal["webhook", "pull", "import", "send", "media", "profile"]
INBOUND_ROLES: frozenset[str] = frozenset({"webhook", "pull", "import"})


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What a connector is and can do, as data that docs and tests are generated from."""

    name: str
    """The folder name: config section, routing key, ``channel`` column, logger, metric label."""
    display_name: str
    roles: frozenset[Role]
    """What the connector does; each role is a mixin the class must have (``ROLE_MIXINS``)."""
    event_types: frozenset[str]
    """Event types the parser turns into messages or delivery statuses."""
    ignored_event_types: frozenset[str] = frozenset()
    """Event types the parser deliberately ignores (echoes, typing indicators)."""
    capabilities: frozenset[str] = frozenset()
    """Free-form facts for docs and officers, e.g. ``attachments``, ``status_resource``."""
    docs_url: str = ""
    recorded_by_officer: bool = False
    """Every message is a report an officer registered (a walk-in, a letter, a phone-log row, a
    LAPOR! export row): triage always opens (or joins) a case for it, never keeps it without one
    as "nothing to act on", never greets it, never reads it as a status command."""

    @property
    def inbound(self) -> str:
        """How messages arrive (``webhook``, ``pull``, ``import``), or ``none`` for outbound only."""
        found = sorted(self.roles & INBOUND_ROLES)
        return "+".join(found) if found else "none"

    @property
    def can_send(self) -> bool:
        return "send" in self.roles


class ConnectorConfig(BaseModel):
    """Base of every connector's config section (``[connectors.<name>]``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True


@dataclass(frozen=True, slots=True)
class SendResult:
    provider_message_id: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    """What the officer should see of this send (an SMS's encoding and segment count): kept in
    the case event ``<purpose>_sent``, beside the provider's id. Small, and nothing identifying."""


@dataclass(frozen=True, slots=True)
class ReceiptStatus:
    """The receipt of a message's case: readable from when triage wrote it, then sent or not."""

    text: str
    written_at: datetime
    state: str
    """The outbox row's state: pending, sending, sent or dead."""
    sent_at: datetime | None = None
    provider_message_id: str | None = None
    email: str | None = None
    """The address it goes to, if the reporter gave one."""
    purpose: str = "receipt"
    """What it is: receipt, greeting, reply, request, report, survey, ..."""
    subject: str = ""


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """How far an inbound message got, for status resources."""

    id: int
    state: str
    received_at: datetime
    tracking_number: str | None = None
    case_status: str | None = None
    receipt: ReceiptStatus | None = None
    error: str | None = None
    sent: tuple[ReceiptStatus, ...] = ()
    """Every message written to the reporter on this message's channel, oldest first (the receipt
    among them): what a one-way channel's status resource shows as their delivery."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as it was stored, found again by its channel's key."""

    id: int
    message: RawMessage


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One page from a pull source: the messages and the cursor to resume after them."""

    messages: Sequence[RawMessage]
    next_cursor: str | None
    more: bool = False
    """True when the source has more right away (no need to wait for the poll interval)."""
    behind: int | None = None
    """How many messages the source still holds after this page, if it can tell (health)."""


@dataclass(frozen=True, slots=True)
class FetchedMedia:
    """The bytes of a media item, with what the channel said they are."""

    data: bytes
    content_type: str
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class ReporterProfile:
    """What a channel says of one of its users: the name to call them by, and their handle."""

    name: str | None = None
    handle: str | None = None
    """The user's handle on the channel (an Instagram username), without the "@"."""


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A record of an imported file that became a raw message; ``line`` is its physical line
    (the header counted), ``sheet`` the sheet of a workbook."""

    line: int
    message: RawMessage
    sheet: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A record of an imported file that cannot be taken, with where and why."""

    line: int
    reason: str
    column: str | None = None
    sheet: str | None = None


EVENT_HEADER = "x-satupintu-event"
"""The raw message's header naming its event type: set where it is stored, read by its parser."""


def event_of(raw: RawMessage, declared: Collection[str], ignored: Collection[str], what: str) -> str | None:
    """The raw message's event type; None for one the channel keeps but ignores (its parser then
    returns None), :class:`UnsupportedEvent` naming ``what`` it is for one never declared."""
    event = raw.headers.get(EVENT_HEADER, "")
    if event in ignored:
        return None
    if event not in declared:
        raise UnsupportedEvent(f"{what} {event!r}")
    return event


def json_message(
    channel: str,
    external_id: str,
    received_at: datetime,
    content: Mapping[str, Any],
    event: str,
    attachments: tuple[BlobRef, ...] = (),
) -> RawMessage:
    """A record a channel stores as JSON (a sheet's row, a desk registration, a webhook item)."""
    return RawMessage(
        channel=channel,
        external_id=external_id,
        received_at=received_at,
        content_type="application/json",
        payload=orjson.dumps(content),
        headers={EVENT_HEADER: event},
        attachments=attachments,
    )


# --- webhooks, declared as data ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HmacSignature:
    """An HMAC of the raw body (Meta's ``X-Hub-Signature-256``, the SMS gateway's ``X-Signature``).

    ``timestamp_header``: the signed message is the body followed by that header's value (the
    Android SMS gateway signs ``body + X-Timestamp``).
    """

    header: str
    secret: bytes
    prefix: str = "sha256="
    digest: str = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    timestamp_header: str | None = None
    max_skew_seconds: int | None = None
    """With ``timestamp_header``: refuse a timestamp further than this from now (replays)."""


@dataclass(frozen=True, slots=True)
class SecretHeader:
    """A shared secret sent as a header (Telegram's ``X-Telegram-Bot-Api-Secret-Token``)."""

    header: str
    secret: bytes


@dataclass(frozen=True, slots=True)
class Unverified:
    """No sender to verify: the public web form. ``reason`` says why, for docs and reviews."""

    reason: str


Verification = HmacSignature | SecretHeader | Unverified


@dataclass(frozen=True, slots=True)
class VerifyToken:
    """Meta's subscription handshake: ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``
    is answered with the challenge when the token matches, 403 otherwise."""

    token: bytes


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A request whose signature was verified, as a connector's ``split`` sees it."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]
    received_at: datetime
    content_type: str


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """One webhook path the shared HTTP server mounts for a connector.

    ``split`` turns a verified body into the raw messages it carries (every entry, change and
    message of a batch); it raises :class:`MalformedWebhook` for a body that is not the channel's
    shape. The framework answers ``ok_status`` only once every message is durable.
    """

    path: str
    verify: Verification
    split: Callable[[WebhookRequest], Sequence[RawMessage]]
    handshake: VerifyToken | None = None
    content_types: frozenset[str] = field(default_factory=lambda: frozenset({"application/json"}))
    max_body_bytes: int | None = None
    """Smaller than ``http.max_body_bytes`` where the channel's bodies are small."""
    ok_status: int = 200


class Ingest(Protocol):
    """What the framework offers a connector's inbound side."""

    async def accept(self, messages: Sequence[RawMessage]) -> list[Stored]:
        """Store and queue messages; when this returns they are durable and may be acknowledged."""
        ...

    async def status(self, channel: str, raw_id: int) -> MessageStatus | None: ...

    async def stored(self, channel: str, external_id: str) -> StoredMessage | None:
        """What was stored under a key: tells a retry of a message from a key reused for another."""
        ...

    async def put_blob(self, data: bytes) -> str:
        """Keep a large part in the blob store; returns its SHA-256."""
        ...

    async def state_get(self, channel: str, key: str) -> str | None: ...

    async def state_set(self, channel: str, key: str, value: str) -> None: ...

    async def state_setdefault(self, channel: str, key: str, value: str) -> str:
        """Keep ``value`` unless another process stored one first; returns the one kept."""
        ...


class Mailer(Protocol):
    """Outgoing mail, available to connectors when SMTP is configured."""

    async def send_mail(
        self, *, to: str, subject: str, text: str, message_id: str, in_reply_to: str | None = None
    ) -> str:
        """Send one message; returns the Message-ID the server accepted."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectorContext:
    """Shared services handed to every connector at construction."""

    mailer: Mailer | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Makassar"))
    """The unit's zone (``timezone``): what dates typed without one (a phone log's) are read in."""
    public_url: str = "http://127.0.0.1:8080"
    """``[survey] public_url``: where reporters reach the public pages (printed on paper forms)."""


# --- the contract ------------------------------------------------------------------------------

ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(ABC, Generic[ConfigT]):
    """One channel: its config, its parser, and the roles it takes on (the mixins below)."""

    spec: ClassVar[ConnectorSpec]
    config_model: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    def __init__(self, config: ConfigT, context: ConnectorContext | None = None) -> None:
        self.config = config
        self.context = context or ConnectorContext()

    @classmethod
    def from_section(cls, section: dict[str, Any], context: ConnectorContext | None = None) -> Self:
        """Validate the config section; a problem names the connector and the field.

        Every secret ``X`` may instead be given as ``X_file``, a file holding it (a container or
        systemd secret), so that it is in neither the config file nor the environment.
        """
        section = _read_secret_files(cls.config_model, section, f"connectors.{cls.spec.name}")
        try:
            config = cls.config_model.model_validate(section)
        except ValidationError as exc:
            problems = "; ".join(
                f"connectors.{cls.spec.name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ConnectorConfigError(problems) from None
        return cls(config, context)  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        return self.spec.name

    async def start(self) -> None:
        """Open outbound clients and check credentials before any work is taken."""

    async def stop(self) -> None:
        """Close what ``start`` opened."""

    @abstractmethod
    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        """Turn a stored raw message into the unified record; pure, no I/O.

        Return a :class:`NormalizedMessage` for a message, a :class:`DeliveryStatus` for a status
        of one of our own messages, None for an event type in ``spec.ignored_event_types``; raise
        :class:`UnsupportedEvent` for one not declared at all, :class:`AnomalousPayload` for a
        payload that does not fit the channel's format.
        """


def _read_secret_files(model: type[BaseModel], section: dict[str, Any], where: str) -> dict[str, Any]:
    """``X_file = PATH`` becomes ``X = <the file's text>`` for each secret field ``X`` of ``model``
    (one trailing newline dropped); an unreadable or empty file is an error naming the key."""
    found = dict(section)
    for name, info in model.model_fields.items():
        key = f"{name}_file"
        if key not in found or not {info.annotation, *get_args(info.annotation)} & {SecretStr, SecretBytes}:
            continue
        if name in found:
            raise ConnectorConfigError(f"{where}.{key}: give {name} or {key}, not both")
        path = found.pop(key)
        try:
            secret = Path(path).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
        except (OSError, UnicodeDecodeError, TypeError) as exc:
            raise ConnectorConfigError(f"{where}.{key}: cannot read {path!r}: {type(exc).__name__}") from None
        if not secret:
            raise ConnectorConfigError(f"{where}.{key}: the file is empty")
        found[name] = secret
    return found


class WebhookInbound:
    """Role ``webhook``: the channel posts to us."""

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        """Endpoints the framework serves: verification, handshake, splitting, storing, answering."""
        return ()

    def routes(self, ingest: Ingest) -> Sequence[web.RouteDef]:
        """Other routes of the channel (a status resource, a public page), mounted as they are."""
        return ()


class PullInbound(ABC):
    """Role ``pull``: we fetch from the channel (IMAP, Telegram getUpdates).

    The framework runs one loop per source (an account, a mailbox) in exactly one process at a
    time, under a lease in the database, and writes the cursor compare-and-set with that lease.
    """

    poll_interval_seconds: ClassVar[float] = 10.0
    may_wait: bool = True
    """False under ``satupintu pull --once``: ``fetch`` answers at once (no long poll, no IDLE)."""

    def use_ingest(self, ingest: Ingest) -> None:  # noqa: B027 - an optional hook, empty by default
        """Called before the first fetch: a connector that keeps parts of what it fetches in the
        blob store (``ingest.put_blob``, mail attachments) before handing a page over keeps it."""

    def pull_sources(self) -> Sequence[str]:
        """The independent sources to pull, each with its own lease and cursor."""
        return ("default",)

    @abstractmethod
    async def fetch(self, source: str, cursor: str | None) -> FetchResult:
        """Read the next page after ``cursor``; may wait (long poll, IDLE) and is cancelled at shutdown.

        Raise :class:`ConnectorNotReady` when unreachable, :class:`ConnectorAuthFailed` when refused.
        """


class ImportInbound(ABC):
    """Role ``import``: records arrive as files an officer imports (phone logs, LAPOR! exports)."""

    @abstractmethod
    def read_import(self, source: Path) -> Iterator[ImportRow | RejectedRow]:
        """Yield each record: a raw message whose external id comes from its content (so an
        overlapping export adds nothing), or why it cannot be taken."""


class Outbound(ABC):
    """Role ``send``: replies go out on this channel."""

    @abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver a message to the reporter on this channel; return the provider's id.

        Raise :class:`TransientSendError` or :class:`PermanentSendError` on failure.
        """


class MediaSource(ABC):
    """Role ``media``: the channel sends media by reference; bytes are fetched after storage."""

    @abstractmethod
    async def fetch_media(self, media: MediaRef, max_bytes: int) -> FetchedMedia:
        """The bytes of one item, at most ``max_bytes`` (read an HTTP body with :func:`read_capped`).
        Raise :class:`ConnectorNotReady` to retry, :class:`MediaUnavailable` when it can never be
        had, :class:`MediaTooLarge` when it is over ``max_bytes``."""


class ProfileSource(ABC):
    """Role ``profile``: the channel names its users by an id alone and says who they are when
    asked (Instagram's User Profile API). The framework asks once per identity, after the case is
    made and off the hot path (``pipeline/profiles.py``); the name goes on the reporter, their
    nameless cases, and their later messages."""

    @abstractmethod
    async def fetch_profile(self, channel_user_id: str) -> ReporterProfile | None:
        """The user's profile; None when the channel knows no name for them. Raise
        :class:`ConnectorNotReady` to be asked again later (with backoff, a bounded number of
        times), :class:`ProfileUnavailable` when it will never say (no permission, no consent)."""


ROLE_MIXINS: dict[str, type] = {
    "webhook": WebhookInbound,
    "pull": PullInbound,
    "import": ImportInbound,
    "send": Outbound,
    "media": MediaSource,
    "profile": ProfileSource,
}
