"""The connector contract: the one module a connector imports from the project.

A connector is one folder, ``connectors/<name>/``, whose ``__init__.py`` exports ``CONNECTOR``, a
:class:`Connector` subclass. It declares its :class:`ConnectorSpec` and config model, and gives:

* an inbound side, one of: webhook ``routes()`` mounted on the shared HTTP server, a pull loop
  (:class:`PollingConnector` with a cursor the framework keeps), or an importer
  (:class:`ImportingConnector`);
* a pure parser, ``parse()``: stored raw message -> normalized message, no I/O;
* an outbound side, ``send()``: deliver a reply and return the provider's message id.

The framework gives the connector an :class:`Ingest` to store what arrives; storing comes before
acknowledging to the channel, so nothing acknowledged is ever lost.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, Protocol, Self, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from envelopes import (
    KINDS,
    BlobRef,
    NormalizedMessage,
    OutboundMessage,
    RawMessage,
    Recipient,
    Reporter,
    Stored,
)

__all__ = [
    "KINDS",
    "AnomalousPayload",
    "BlobRef",
    "Connector",
    "ConnectorAuthFailed",
    "ConnectorConfig",
    "ConnectorConfigError",
    "ConnectorError",
    "ConnectorNotReady",
    "ConnectorSpec",
    "FetchResult",
    "ImportingConnector",
    "Ingest",
    "Mailer",
    "MessageStatus",
    "NormalizedMessage",
    "OutboundMessage",
    "PermanentSendError",
    "PollingConnector",
    "RawMessage",
    "ReceiptStatus",
    "Recipient",
    "Reporter",
    "SendResult",
    "SignatureInvalid",
    "Stored",
    "StoredMessage",
    "TransientSendError",
    "UnsupportedEvent",
    "verify_hmac_sha256",
]


# --- errors: the policy for each is fixed by the framework ------------------------------------


class ConnectorError(Exception):
    """Base of every error a connector raises on purpose."""


class ConnectorConfigError(ConnectorError):
    """The connector's config section is missing something or has a bad value."""


class ConnectorNotReady(ConnectorError):
    """A transient failure reaching the channel: retried with backoff."""


class ConnectorAuthFailed(ConnectorError):
    """The channel refused our credentials: stop this connector and tell the operator."""


class SignatureInvalid(ConnectorError):
    """A webhook request is forged or unsigned: answered 401/403, nothing is stored."""


class UnsupportedEvent(ConnectorError):
    """The parser does not handle this event type: the raw message is kept and marked ignored."""


class AnomalousPayload(ConnectorError):
    """The payload does not match the channel's documented shape: parked as dead with the reason."""


class TransientSendError(ConnectorError):
    """Sending failed but may work later (timeout, 5xx, rate limit): retried with backoff."""


class PermanentSendError(ConnectorError):
    """Sending can never work as it is (blocked, invalid recipient): parked as dead."""


# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What a connector is and can do, as data that docs and tests are generated from."""

    name: str
    """The folder name: config section, routing key, ``channel`` column, logger, metric label."""
    display_name: str
    inbound: Literal["webhook", "poll", "import"]
    event_types: frozenset[str]
    """Event types the parser turns into messages."""
    ignored_event_types: frozenset[str] = frozenset()
    """Event types the parser deliberately ignores (delivery statuses, echoes)."""
    capabilities: frozenset[str] = frozenset()
    """e.g. ``reply``, ``attachments``, ``email_receipt``."""
    docs_url: str = ""


class ConnectorConfig(BaseModel):
    """Base of every connector's config section (``[connectors.<name>]``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True


@dataclass(frozen=True, slots=True)
class SendResult:
    provider_message_id: str


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


# --- the contract ------------------------------------------------------------------------------

ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(ABC, Generic[ConfigT]):
    """One channel: how messages arrive, how a payload is parsed, how a reply is sent."""

    spec: ClassVar[ConnectorSpec]
    config_model: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    def __init__(self, config: ConfigT, context: ConnectorContext | None = None) -> None:
        self.config = config
        self.context = context or ConnectorContext()

    @classmethod
    def from_section(cls, section: dict[str, Any], context: ConnectorContext | None = None) -> Self:
        """Validate the config section; a problem names the connector and the field."""
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

    def routes(self, ingest: Ingest) -> Sequence[web.RouteDef]:
        """Webhook routes to mount on the shared HTTP server (none for pull or import connectors)."""
        return ()

    @abstractmethod
    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage | None:
        """Turn a stored raw message into the unified record; pure, no I/O.

        Return None for an event type in ``spec.ignored_event_types``; raise
        :class:`UnsupportedEvent` for one not declared at all, :class:`AnomalousPayload` for a
        payload that does not fit the channel's format.
        """

    @abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver a message to the reporter on this channel; return the provider's id.

        Raise :class:`TransientSendError` or :class:`PermanentSendError` on failure.
        """


class PollingConnector(Connector[ConfigT]):
    """A channel we pull from (IMAP, Telegram getUpdates); the framework keeps the cursor."""

    poll_interval_seconds: ClassVar[float] = 10.0

    @abstractmethod
    async def fetch(self, cursor: str | None) -> FetchResult:
        """Read the next page after ``cursor``; raise :class:`ConnectorNotReady` when unreachable."""


class ImportingConnector(Connector[ConfigT]):
    """A channel that arrives as files an officer imports (phone logs, walk-in sheets)."""

    @abstractmethod
    def read_import(self, source: Path) -> Iterator[RawMessage]:
        """Yield one raw message per record; the external id makes re-importing a file harmless."""


def verify_hmac_sha256(secret: bytes, body: bytes, signature: str | None, *, prefix: str = "sha256=") -> None:
    """Check a hex HMAC-SHA256 signature of the raw body in constant time."""
    if not signature or not signature.startswith(prefix):
        raise SignatureInvalid("missing or malformed signature")
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature[len(prefix) :].lower()):
        raise SignatureInvalid("signature does not match the body")
