"""The Bot API through python-telegram-bot, with its errors turned into the framework's.

``api_base_url`` is where the Bot API is (Telegram, a local Bot API server, a test's server):
methods go to ``<api_base_url>/bot<token>/<method>``, files to ``<api_base_url>/file/bot<token>/<path>``.
Updates are read as the JSON Telegram sent (``do_api_request``), not as library objects, so that
what is stored is what came. The token is in every URL: no error text leaves this module with it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import aiohttp
from telegram import Bot, Message, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from connectors.base import (
    ConnectorAuthFailed,
    ConnectorConfigError,
    ConnectorNotReady,
    FetchedMedia,
    MediaRef,
    MediaUnavailable,
    PermanentSendError,
    TransientSendError,
    read_capped,
)

logger = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25
"""How long one getUpdates waits for an update (Telegram holds the request open until one comes)."""
REQUEST_SECONDS = 15.0
CHECK_SECONDS = 5.0
MAX_TEXT_CHARS = 4096
"""The Bot API's limit for one message; a longer reply goes as several."""
T = TypeVar("T")


class BotApi:
    """One bot's client: open in ``start``, closed in ``stop``, on the event loop that uses it."""

    def __init__(self, token: str, api_base_url: str) -> None:
        self._token = token
        self._base = api_base_url.rstrip("/")
        self._bot: Bot | None = None
        self._files: aiohttp.ClientSession | None = None
        self.username: str | None = None

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            raise RuntimeError("the Telegram client is used before start()")
        return self._bot

    async def start(self) -> None:
        # we read updates as raw JSON on purpose (do_api_request): the library's advice is for others
        warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)
        self._bot = Bot(
            self._token,
            base_url=f"{self._base}/bot",
            base_file_url=f"{self._base}/file/bot",
            request=HTTPXRequest(read_timeout=REQUEST_SECONDS, connect_timeout=REQUEST_SECONDS),
            get_updates_request=HTTPXRequest(read_timeout=LONG_POLL_SECONDS + REQUEST_SECONDS),
        )
        self._files = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=60))

    async def stop(self) -> None:
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None
        if self._files is not None:
            await self._files.close()
            self._files = None

    def safe(self, text: str) -> str:
        """``text`` without the token (URLs and some library messages quote it)."""
        return text.replace(self._token, "<token>")

    async def check(self) -> None:
        """getMe: a token Telegram refuses stops start-up; an unreachable Telegram does not (the
        loops retry), it is logged."""
        try:
            # short: the deliver stage waits for its connectors' start before the process serves
            me = await self.bot.get_me(connect_timeout=CHECK_SECONDS, read_timeout=CHECK_SECONDS)
        except InvalidToken:
            raise ConnectorConfigError("connectors.telegram.bot_token: Telegram refused the token") from None
        except TelegramError as exc:
            logger.warning("Telegram not reachable at start-up: %s", self.safe(str(exc)), extra={"channel": "telegram"})
            return
        self.username = me.username

    # --- inbound ----------------------------------------------------------------------------

    async def get_updates(self, offset: int | None, allowed: Sequence[str], *, wait: bool = True) -> list[Any]:
        """The next updates after ``offset`` (which confirms, and so forgets, all before it);
        ``wait``: long-poll for them, else answer with what is there now."""
        timeout = LONG_POLL_SECONDS if wait else 0
        kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(allowed)}
        if offset is not None:
            kwargs["offset"] = offset
        result = await self._inbound(
            lambda: self.bot.do_api_request(
                "getUpdates", api_kwargs=kwargs, read_timeout=LONG_POLL_SECONDS + REQUEST_SECONDS
            )
        )
        if not isinstance(result, list):
            raise ConnectorNotReady("getUpdates did not answer a list of updates")
        return result

    async def _inbound(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except InvalidToken:
            raise ConnectorAuthFailed("Telegram refused the bot token") from None
        except Conflict as exc:
            raise ConnectorNotReady(
                f"Telegram refused getUpdates ({self.safe(exc.message)}): a webhook is set "
                "(satupintu telegram webhook delete) or another program polls with this token"
            ) from None
        except RetryAfter as exc:
            raise ConnectorNotReady("Telegram asked us to slow down", retry_after=_seconds(exc)) from None
        except TelegramError as exc:
            raise ConnectorNotReady(f"Telegram: {type(exc).__name__}: {self.safe(exc.message)}") from None

    # --- webhook ------------------------------------------------------------------------------

    async def set_webhook(self, url: str, secret: str, allowed: Sequence[str]) -> None:
        await self._admin(lambda: self.bot.set_webhook(url, secret_token=secret, allowed_updates=list(allowed)))

    async def delete_webhook(self) -> None:
        await self._admin(lambda: self.bot.delete_webhook(drop_pending_updates=False))

    async def webhook_info(self) -> dict[str, Any]:
        info = await self._admin(self.bot.get_webhook_info)
        return {
            "url": info.url,
            "pending_update_count": info.pending_update_count,
            "last_error": info.last_error_message,
        }

    async def _admin(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except InvalidToken:
            raise ConnectorAuthFailed("Telegram refused the bot token") from None
        except TelegramError as exc:
            raise ConnectorNotReady(f"Telegram: {self.safe(exc.message)}") from None

    async def leave(self, chat_id: int, text: str) -> None:
        """Tell a chat one thing and leave it (best effort: a failure is logged, nothing else)."""
        try:
            await self.bot.send_message(chat_id, text)
            await self.bot.leave_chat(chat_id)
        except TelegramError as exc:
            logger.warning(
                "could not tell a group chat and leave it: %s", self.safe(exc.message), extra={"channel": "telegram"}
            )

    # --- outbound -----------------------------------------------------------------------------

    async def send_text(self, chat_id: int, text: str, reply_to: int | None) -> list[int]:
        """Send ``text`` (in parts of at most 4096 characters); the ids of the messages sent."""
        sent: list[int] = []
        for number, part in enumerate(_parts(text)):
            replying = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to and not number else None
            message: Message = await self._send(
                partial(self.bot.send_message, chat_id, part, reply_parameters=replying)
            )
            sent.append(message.message_id)
        return sent

    async def _send(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except RetryAfter as exc:
            raise TransientSendError("Telegram: too many requests", retry_after=_seconds(exc)) from None
        except InvalidToken:
            raise PermanentSendError("Telegram refused the bot token", code="401", channel_down=True) from None
        except Forbidden as exc:  # "bot was blocked by the user", "user is deactivated"
            raise PermanentSendError(f"Telegram: {self.safe(exc.message)}", code="403") from None
        except ChatMigrated:
            raise PermanentSendError("Telegram: the chat became a supergroup", code="400") from None
        except BadRequest as exc:  # "chat not found", "message is too long"
            raise PermanentSendError(f"Telegram: {self.safe(exc.message)}", code="400") from None
        except NetworkError as exc:  # timeouts and 5xx are NetworkErrors too
            raise TransientSendError(f"Telegram: {type(exc).__name__}: {self.safe(exc.message)}") from None
        except TelegramError as exc:
            raise TransientSendError(f"Telegram: {self.safe(exc.message)}") from None

    # --- media --------------------------------------------------------------------------------

    async def fetch(self, media: MediaRef, max_bytes: int) -> FetchedMedia:
        """getFile, then the file URL, read under ``max_bytes``."""
        try:
            found = await self.bot.get_file(media.media_id)
        except RetryAfter as exc:
            raise ConnectorNotReady("Telegram asked us to slow down", retry_after=_seconds(exc)) from None
        except BadRequest as exc:  # "wrong file_id", "file is too big" (the Bot API hands out 20 MB at most)
            raise MediaUnavailable(f"Telegram: {self.safe(exc.message)}") from None
        except TelegramError as exc:
            raise ConnectorNotReady(f"Telegram: {type(exc).__name__}: {self.safe(exc.message)}") from None
        if not found.file_path:
            raise MediaUnavailable("Telegram gave no file path")
        assert self._files is not None
        try:
            async with self._files.get(found.file_path) as response:
                if response.status in {403, 404, 410}:
                    raise MediaUnavailable(f"the file URL answered HTTP {response.status}")
                if response.status != 200:
                    retry = response.headers.get("Retry-After")
                    raise ConnectorNotReady(
                        f"the file URL answered HTTP {response.status}",
                        retry_after=float(retry) if retry and retry.isdigit() else None,
                    )
                data = await read_capped(response.content, max_bytes, response.content_length)
                content_type = media.content_type or response.content_type
        except aiohttp.ClientError as exc:
            raise ConnectorNotReady(f"downloading the file: {type(exc).__name__}") from None
        name = media.filename or found.file_path.rsplit("/", 1)[-1] or None
        return FetchedMedia(data, content_type or "application/octet-stream", name)


def _parts(text: str) -> list[str]:
    """Pieces of at most ``MAX_TEXT_CHARS``, cut at a line break where there is one."""
    parts: list[str] = []
    rest = text or " "
    while len(rest) > MAX_TEXT_CHARS:
        cut = rest.rfind("\n", 0, MAX_TEXT_CHARS)
        cut = cut if cut > MAX_TEXT_CHARS // 2 else MAX_TEXT_CHARS
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    parts.append(rest)
    return parts


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)  # an int is deprecated in favour of timedelta
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
