"""The connector against a local Bot API: the offset it asks for, how refusals map onto the
framework's errors, media under the size limit, and no token in any error text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import (
    ConnectorAuthFailed,
    ConnectorConfigError,
    ConnectorNotReady,
    MediaRef,
    MediaTooLarge,
    MediaUnavailable,
    OutboundMessage,
    PermanentSendError,
    Recipient,
    TransientSendError,
)
from connectors.telegram import TelegramConnector
from connectors.telegram.tests.botapi import TOKEN, BotApiServer, Scripted

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
async def bot(bot_api: BotApiServer) -> AsyncIterator[TelegramConnector]:
    connector = TelegramConnector.from_section({"bot_token": TOKEN, "api_base_url": bot_api.url})
    await connector.start()
    try:
        yield connector
    finally:
        await connector.stop()


def reply(via: str = "conversation", key: str = "telegram:700100200") -> OutboundMessage:
    return OutboundMessage(
        outbox_id=1,
        case_id=1,
        channel="telegram",
        purpose="receipt",
        idempotency_key="receipt:1",
        recipient=Recipient(via=via, conversation_key=key, phone="+6281234567890"),
        subject="",
        text="Nomor tiket: X",
    )


async def test_the_offset_is_the_cursor_plus_one_and_confirms_only_then(
    bot: TelegramConnector, bot_api: BotApiServer
) -> None:
    for name in ("message__text", "message__document"):
        bot_api.add_update(json.loads((FIXTURES / f"{name}.json").read_text()))
    page = await bot.fetch("updates", None)
    assert [m.external_id for m in page.messages] == ["700100200:41", "700100200:43"]
    assert bot_api.confirmed == set(), "nothing is confirmed by the fetch that read it"
    assert page.next_cursor is not None and page.next_cursor.startswith("810000003@")
    await bot.fetch("updates", page.next_cursor)
    assert bot_api.calls[-1][1]["offset"] == 810000004
    assert bot_api.confirmed == {810000001, 810000003}


async def test_a_week_old_cursor_is_not_used_as_an_offset(bot: TelegramConnector, bot_api: BotApiServer) -> None:
    old = int((datetime.now(UTC) - timedelta(days=8)).timestamp())
    await bot.fetch("updates", f"810000003@{old}")
    assert "offset" not in bot_api.calls[-1][1], "update ids start anew after a week: an old offset could skip them"


async def test_polling_refusals_say_what_to_do(bot: TelegramConnector, bot_api: BotApiServer) -> None:
    bot_api.webhook = {"url": "https://ult.example.ac.id/webhooks/telegram"}
    with pytest.raises(ConnectorNotReady, match="webhook delete"):
        await bot.fetch("updates", None)
    bot_api.webhook = None
    bot_api.fail_next("getUpdates", Scripted(429, "Too Many Requests: retry after 7", retry_after=7))
    with pytest.raises(ConnectorNotReady) as slowed:
        await bot.fetch("updates", None)
    assert slowed.value.retry_after == 7
    bot_api.fail_next("getUpdates", Scripted(401, "Unauthorized"))
    with pytest.raises(ConnectorAuthFailed) as refused:
        await bot.fetch("updates", None)
    assert TOKEN not in str(refused.value)


async def test_sending_errors_map_onto_the_framework(bot: TelegramConnector, bot_api: BotApiServer) -> None:
    bot_api.fail_next("sendMessage", Scripted(429, "Too Many Requests: retry after 3", retry_after=3))
    with pytest.raises(TransientSendError) as slowed:
        await bot.send(reply())
    assert slowed.value.retry_after == 3
    bot_api.fail_next("sendMessage", Scripted(400, "Bad Request: chat not found"))
    with pytest.raises(PermanentSendError, match=r"(?i)chat not found"):
        await bot.send(reply())
    bot_api.fail_next("sendMessage", Scripted(401, "Unauthorized"))
    with pytest.raises(PermanentSendError) as down:
        await bot.send(reply())
    assert down.value.channel_down
    with pytest.raises(PermanentSendError, match="only to a chat"):
        await bot.send(reply(via="phone"))


async def test_a_long_reply_goes_in_parts_under_telegrams_limit(bot: TelegramConnector, bot_api: BotApiServer) -> None:
    text = "\n".join(f"Baris {n}: " + "x" * 90 for n in range(100))
    message = reply().model_copy(update={"text": text})
    await bot.send(message)
    parts = [m["text"] for m in bot_api.sent]
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text


async def test_media_is_fetched_by_get_file_then_its_url_under_the_limit(
    bot: TelegramConnector, bot_api: BotApiServer
) -> None:
    bot_api.add_file("BQACdoc", "documents/file_3.pdf", b"%PDF-1.7 bukti")
    ref = MediaRef(media_id="BQACdoc", kind="document", filename="bukti-bayar.pdf", content_type="application/pdf")
    fetched = await bot.fetch_media(ref, 1024)
    assert (fetched.data, fetched.content_type, fetched.filename) == (
        b"%PDF-1.7 bukti",
        "application/pdf",
        "bukti-bayar.pdf",
    )
    with pytest.raises(MediaTooLarge):
        await bot.fetch_media(ref, 4)
    with pytest.raises(MediaUnavailable, match=r"(?i)wrong file_id") as gone:
        await bot.fetch_media(MediaRef(media_id="nope"), 1024)
    assert TOKEN not in str(gone.value)


async def test_a_token_telegram_refuses_stops_start_up_naming_the_key(bot_api: BotApiServer) -> None:
    connector = TelegramConnector.from_section({"bot_token": "999:not-the-token", "api_base_url": bot_api.url})
    with pytest.raises(ConnectorConfigError, match=r"connectors\.telegram\.bot_token") as refused:
        await connector.start()
    await connector.stop()
    assert "999:not-the-token" not in str(refused.value)


async def test_webhook_mode_needs_its_secret() -> None:
    with pytest.raises(ConnectorConfigError, match=r"connectors\.telegram\.webhook_secret"):
        TelegramConnector.from_section({"bot_token": TOKEN, "mode": "webhook"})
    with pytest.raises(ConnectorConfigError, match=r"connectors\.telegram\.webhook_secret"):
        TelegramConnector.from_section({"bot_token": TOKEN, "mode": "webhook", "webhook_secret": "has spaces"})
    assert not TelegramConnector.from_section({"bot_token": TOKEN}).webhooks(), "polling serves no webhook"
