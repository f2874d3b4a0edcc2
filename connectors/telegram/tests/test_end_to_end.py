"""A message to the bot becomes one case whose receipt is sent in the same chat, on both backends,
by long polling; the offset that confirms an update goes to Telegram only after it is stored.
What the bot receives and sends is seen at a local Bot API server."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from connectors.telegram.tests.botapi import TOKEN, BotApiServer, Scripted
from tests.support import Running, SettingsFactory, eventually, running_pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CHAT = 700100200


def load(name: str, update_id: int | None = None) -> dict[str, Any]:
    update: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    if update_id is not None:
        update["update_id"] = update_id
    return update


def polling(bot_api: BotApiServer, **extra: Any) -> dict[str, Any]:
    return {"telegram": {"bot_token": TOKEN, "api_base_url": bot_api.url, **extra}}


def receipts(bot_api: BotApiServer) -> list[dict[str, Any]]:
    return [m for m in bot_api.sent if "Nomor tiket" in str(m["text"])]


def stored(app: Running) -> int:
    return int(app.scalar("SELECT count(*) FROM raw_message WHERE channel = 'telegram'"))


async def test_a_message_becomes_a_case_with_its_receipt_in_the_same_chat(
    backend_settings: SettingsFactory, bot_api: BotApiServer
) -> None:
    settings = backend_settings(connectors=polling(bot_api))
    async with running_pipeline(settings) as app:
        bot_api.add_update(load("message__text"))
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)
        [case] = app.rows("SELECT * FROM cases")
        assert case["channel"] == "telegram" and case["receipt_via"] == "telegram"
        [receipt] = receipts(bot_api)
        assert int(receipt["chat_id"]) == CHAT
        assert receipt["reply_parameters"]["message_id"] == 41, "the receipt answers the reporter's message"
        assert case["tracking_number"] in receipt["text"]
        assert app.scalar("SELECT provider_message_id FROM outbox") == f"{CHAT}:{receipt['message_id']}"
        # the next getUpdates confirmed it, after it was stored
        await eventually(lambda: 810000001 in bot_api.confirmed)


async def test_a_photo_is_fetched_after_storage_and_an_edit_joins_the_case_as_an_edit(
    backend_settings: SettingsFactory, bot_api: BotApiServer
) -> None:
    image = b"\xff\xd8\xff\xe0" + b"jpeg" * 500
    bot_api.add_file("AgACAgUAAxkBAAIBlarge", "photos/file_7.jpg", image)
    settings = backend_settings(connectors=polling(bot_api))
    async with running_pipeline(settings) as app:
        photo = load("message__photo_caption")
        photo["message"]["message_id"] = 41
        photo["message"]["caption"] = "Bukti transfer UKT: sudah dibayar tetapi SIAKAD masih belum lunas"
        bot_api.add_update(photo)
        await eventually(lambda: app.scalar("SELECT state FROM media") == "fetched")
        assert app.scalar("SELECT size FROM media") == len(image)
        edit = load("edited_message__text")
        bot_api.add_update(edit)
        await eventually(lambda: app.scalar("SELECT count(*) FROM case_message") == 2)
        texts = [r["text"] for r in app.rows("SELECT text FROM case_message ORDER BY id")]
        assert texts[1].startswith("(pesan diubah)")
        assert app.scalar("SELECT count(*) FROM cases") == 1
        assert len(receipts(bot_api)) == 1


async def test_a_group_is_told_once_it_is_not_a_reporter_and_nothing_is_kept(
    backend_settings: SettingsFactory, bot_api: BotApiServer
) -> None:
    settings = backend_settings(connectors=polling(bot_api))
    async with running_pipeline(settings) as app:
        group = {"id": -4123456789, "title": "Himpunan Mahasiswa", "type": "group"}
        for number in (1, 2):
            update = load("message__text", 820000000 + number)
            update["message"]["chat"] = group
            update["message"]["message_id"] = 100 + number
            bot_api.add_update(update)
        await eventually(lambda: {820000001, 820000002} <= bot_api.confirmed)
        await eventually(lambda: bot_api.left == [-4123456789])
        told = [m for m in bot_api.sent if int(m["chat_id"]) == -4123456789]
        assert len(told) == 1 and "chat pribadi" in told[0]["text"]
        assert stored(app) == 0 and app.scalar("SELECT count(*) FROM cases") == 0


async def test_a_429_is_waited_out_and_a_blocked_bot_is_shown_on_the_case(
    backend_settings: SettingsFactory, bot_api: BotApiServer
) -> None:
    bot_api.fail_next("sendMessage", Scripted(429, "Too Many Requests: retry after 1", retry_after=1))
    settings = backend_settings(connectors=polling(bot_api))
    async with running_pipeline(settings) as app:
        bot_api.add_update(load("message__text"))
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)
        tries = [at for method, _, at in bot_api.calls if method == "sendMessage"]
        assert len(tries) == 2 and tries[1] - tries[0] >= 1.0, "the second try waited the retry_after"

        bot_api.fail_next("sendMessage", Scripted(403, "Forbidden: bot was blocked by the user"))
        other = copy.deepcopy(load("message__text", 810000100))
        other["message"]["chat"]["id"] = other["message"]["from"]["id"] = 700100300
        bot_api.add_update(other)
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'dead'") == 1)
        error = app.scalar("SELECT error FROM outbox WHERE state = 'dead'")
        assert "bot was blocked by the user" in error
        failed = app.scalar("SELECT detail FROM case_event WHERE action = 'receipt_failed'")
        detail = failed if isinstance(failed, dict) else json.loads(failed)
        assert detail["code"] == "403" and "blocked" in detail["error"]
