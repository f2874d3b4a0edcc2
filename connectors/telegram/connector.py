"""The Telegram bot: long polling (default) or a webhook in, replies out, media fetched after storage.

Polling runs on the framework's pull loop: ``fetch`` asks getUpdates for what follows the cursor
(the last update id), with a long poll; the framework stores the page, then writes the cursor, and
only the next getUpdates (``offset`` = cursor + 1) confirms the page to Telegram, which then forgets
it. So an update is never confirmed before our copy of it is stored; a crash in between reads the
page again, and the idempotency key makes that harmless. Webhook mode serves
``POST /webhooks/telegram``, checked against ``X-Telegram-Bot-Api-Secret-Token`` by the framework.

A group chat is not a reporter: when one writes to the bot, or adds it, the bot tells it so in one
message and leaves it; nothing of it is stored. That message goes straight from here (as the
update is screened), not through the outbox, because there is no case to hang it on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Literal

import orjson
from pydantic import Field, SecretStr, ValidationInfo, field_validator

from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorContext,
    ConnectorSpec,
    FetchedMedia,
    FetchResult,
    MalformedWebhook,
    MediaRef,
    MediaSource,
    Outbound,
    OutboundMessage,
    Parsed,
    PermanentSendError,
    PullInbound,
    RawMessage,
    SecretHeader,
    SendResult,
    WebhookEndpoint,
    WebhookInbound,
    WebhookRequest,
)
from connectors.telegram import parser
from connectors.telegram.api import BotApi
from connectors.telegram.intake import ALLOWED_UPDATES, CHANNEL, IGNORED_TYPES, MESSAGE_TYPES, Screened, screen

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SOURCE = "updates"
STALE_CURSOR = timedelta(days=6)
"""Telegram keeps updates 24 h and starts ids anew after a week without any: a cursor older than
this is not used as an offset (it could skip the new, lower ids); keys make the re-read harmless."""
GROUP_NOTICE = (
    "Terima kasih. Bot ini menerima laporan hanya lewat chat pribadi, bukan dari grup: pesan di grup "
    "tidak kami catat sebagai laporan, dan bot akan keluar dari grup ini. Silakan kirim laporan Anda "
    "langsung kepada bot{handle} dalam chat pribadi."
)


class TelegramConfig(ConnectorConfig):
    bot_token: SecretStr
    """From BotFather (or ``bot_token_file``, or SATUPINTU_CONNECTORS__TELEGRAM__BOT_TOKEN)."""
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    """Webhook mode: Telegram sends it in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -)."""
    api_base_url: str = Field(default="https://api.telegram.org", pattern=r"^https?://[^\s/]+(/[^\s]*)?$")

    @field_validator("webhook_secret")
    @classmethod
    def _secret_for_webhooks(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            if info.data.get("mode") == "webhook":
                raise ValueError('required when mode = "webhook": Telegram must prove each request is its own')
            return None
        secret = value.get_secret_value()
        if not (1 <= len(secret) <= 256 and all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)):
            raise ValueError("1 to 256 characters of A-Z, a-z, 0-9, _ and - (what Telegram accepts)")
        return value


class TelegramConnector(Connector[TelegramConfig], WebhookInbound, PullInbound, Outbound, MediaSource):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Telegram bot",
        roles=frozenset({"webhook", "pull", "send", "media"}),
        event_types=MESSAGE_TYPES,
        ignored_event_types=IGNORED_TYPES,
        capabilities=frozenset({"attachments", "edits", "replies"}),
        docs_url="https://core.telegram.org/bots/api",
    )
    config_model = TelegramConfig
    poll_interval_seconds: ClassVar[float] = 0.0
    """getUpdates waits for updates itself (a long poll): no pause between two."""

    def __init__(self, config: TelegramConfig, context: ConnectorContext | None = None) -> None:
        super().__init__(config, context)
        self.api = BotApi(config.bot_token.get_secret_value(), config.api_base_url)
        self._told: set[int] = set()
        self._telling: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.api.start()
        await self.api.check()

    async def stop(self) -> None:
        if self._telling:
            await asyncio.wait(self._telling, timeout=5)
        await self.api.stop()

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        return parser.parse(raw_id, raw)

    # --- inbound ------------------------------------------------------------------------------

    def pull_sources(self) -> Sequence[str]:
        return (SOURCE,) if self.config.mode == "polling" else ()

    async def fetch(self, source: str, cursor: str | None) -> FetchResult:
        offset = _offset(cursor)
        wait = getattr(self, "may_wait", True)  # False under `satupintu pull --once`
        updates = await self.api.get_updates(offset, ALLOWED_UPDATES, wait=wait)
        now = datetime.now(UTC)
        found = (self._screened(screen(u, now)) for u in updates)
        kept = list({raw.external_id: raw for raw in found if raw is not None}.values())  # one per key
        ids = [u["update_id"] for u in updates if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        if not ids:
            return FetchResult(kept, cursor, more=bool(updates))
        return FetchResult(kept, f"{max(ids)}@{int(now.timestamp())}", more=True)

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        if self.config.mode != "webhook" or self.config.webhook_secret is None:
            return ()
        secret = self.config.webhook_secret.get_secret_value().encode()
        return [
            WebhookEndpoint(
                path=WEBHOOK_PATH,
                verify=SecretHeader(SECRET_HEADER, secret),
                split=self._split,
                max_body_bytes=1024 * 1024,
            )
        ]

    def _split(self, request: WebhookRequest) -> list[RawMessage]:
        """One update per request (Telegram's webhook); a group's update stores nothing."""
        update = orjson.loads(request.body)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise MalformedWebhook("expected a Telegram Update: a JSON object with an integer update_id")
        raw = self._screened(screen(update, request.received_at, request.body))
        return [raw] if raw is not None else []

    def _screened(self, screened: Screened) -> RawMessage | None:
        if screened.tell is not None:
            self._tell_group(screened.tell)
        elif screened.raw is None:
            logger.info("Telegram update not kept: %s", screened.refused, extra={"channel": CHANNEL})
        return screened.raw

    def _tell_group(self, chat_id: int) -> None:
        """Once per group and process: say it is not a reporter, and leave (in the background, so
        that storing the rest of a page does not wait for it)."""
        if chat_id in self._told:
            return
        self._told.add(chat_id)
        handle = f" @{self.api.username}" if self.api.username else ""
        task = asyncio.get_running_loop().create_task(self.api.leave(chat_id, GROUP_NOTICE.format(handle=handle)))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)
        logger.info("a group chat wrote to the bot: told it is not a reporter", extra={"channel": CHANNEL})

    # --- outbound -----------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        chat_id = _chat(message)
        sent = await self.api.send_text(chat_id, message.text, _reply_to(message.in_reply_to, chat_id))
        return SendResult(f"{chat_id}:{sent[0]}")

    async def fetch_media(self, media: MediaRef, max_bytes: int) -> FetchedMedia:
        return await self.api.fetch(media, max_bytes)


def _offset(cursor: str | None) -> int | None:
    """getUpdates' offset after ``cursor`` (``<last update id>@<unix time>``), or None when there
    is none or it is too old to trust."""
    if not cursor:
        return None
    last, _, at = cursor.partition("@")
    if at.isdigit() and datetime.now(UTC) - datetime.fromtimestamp(int(at), UTC) > STALE_CURSOR:
        return None
    return int(last) + 1


def _chat(message: OutboundMessage) -> int:
    """The chat a reply goes to: the report's own conversation (``telegram:<chat id>``)."""
    recipient = message.recipient
    if recipient.via != "conversation":
        raise PermanentSendError(f"a Telegram bot cannot write to a {recipient.via} it was given, only to a chat")
    key = recipient.conversation_key.removeprefix(f"{CHANNEL}:")
    candidate = key if key.lstrip("-").isdigit() else (recipient.channel_user_id or "")
    if not candidate.lstrip("-").isdigit():
        raise PermanentSendError("the recipient has no Telegram chat")
    return int(candidate)


def _reply_to(in_reply_to: str | None, chat_id: int) -> int | None:
    """``<chat>:<message>`` of the reporter's message: the receipt answers it in the chat."""
    if not in_reply_to:
        return None
    chat, _, number = in_reply_to.partition(":")
    return int(number) if chat == str(chat_id) and number.isdigit() else None
