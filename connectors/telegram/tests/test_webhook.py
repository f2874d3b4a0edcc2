"""Webhook mode: ``POST /webhooks/telegram`` with Telegram's secret-token header makes a case whose
receipt goes back in the chat; without the header 401, with a wrong one 403, and nothing is stored;
``satupintu telegram webhook set URL`` / ``delete`` register it at Telegram (here, a local Bot API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from click.testing import CliRunner

from connectors.telegram.tests.botapi import TOKEN, BotApiServer
from tests.support import SettingsFactory, eventually, running_pipeline
from workers import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "s3cret-of_the-webhook"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_mode(bot_api: BotApiServer) -> dict[str, Any]:
    return {"telegram": {"bot_token": TOKEN, "api_base_url": bot_api.url, "mode": "webhook", "webhook_secret": SECRET}}


async def test_a_webhook_update_becomes_a_case_and_forgeries_store_nothing(
    backend_settings: SettingsFactory, bot_api: BotApiServer
) -> None:
    settings = backend_settings(connectors=webhook_mode(bot_api))
    body = (FIXTURES / "message__text.json").read_bytes()
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        for headers, expected in (({}, 401), ({HEADER: "not-the-secret"}, 403)):
            async with http.post(
                "/webhooks/telegram", data=body, headers={"Content-Type": "application/json", **headers}
            ) as r:
                assert r.status == expected
        assert app.scalar("SELECT count(*) FROM raw_message") == 0
        for _ in range(2):  # Telegram retrying the same update
            async with http.post(
                "/webhooks/telegram", data=body, headers={"Content-Type": "application/json", HEADER: SECRET}
            ) as r:
                assert r.status == 200
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)
        assert app.scalar("SELECT count(*) FROM raw_message") == 1
        [receipt] = [m for m in bot_api.sent if "Nomor tiket" in m["text"]]
        assert int(receipt["chat_id"]) == 700100200
        assert not [m for m, *_ in bot_api.calls if m == "getUpdates"], "webhook mode does not poll"


async def test_a_group_update_by_webhook_is_answered_200_told_and_not_kept(
    backend_settings: SettingsFactory, bot_api: BotApiServer
) -> None:
    settings = backend_settings(connectors=webhook_mode(bot_api))
    update = json.loads((FIXTURES / "message__text.json").read_text())
    update["message"]["chat"] = {"id": -100777, "title": "Angkatan 2024", "type": "supergroup"}
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        async with http.post("/webhooks/telegram", json=update, headers={HEADER: SECRET}) as r:
            assert r.status == 200  # answered, or Telegram would send it again and again
        await eventually(lambda: bot_api.left == [-100777])
        assert app.scalar("SELECT count(*) FROM raw_message") == 0


async def test_a_body_that_is_not_an_update_is_400_with_a_reason(
    backend_settings: SettingsFactory, bot_api: BotApiServer
) -> None:
    settings = backend_settings(connectors=webhook_mode(bot_api))
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        async with http.post("/webhooks/telegram", json=[1, 2], headers={HEADER: SECRET}) as r:
            assert r.status == 400 and "update_id" in await r.text()
        assert app.scalar("SELECT count(*) FROM raw_message") == 0


def test_webhook_set_and_delete_are_commands_not_done_at_start(
    bot_api: BotApiServer, monkeypatch: Any, tmp_path: Path
) -> None:
    monkeypatch.setenv("SATUPINTU_DATA_DIR", str(tmp_path))
    for key, value in webhook_mode(bot_api)["telegram"].items():
        monkeypatch.setenv(f"SATUPINTU_CONNECTORS__TELEGRAM__{key.upper()}", value)
    runner = CliRunner()
    url = "https://ult.example.ac.id/webhooks/telegram"
    result = runner.invoke(cli, ["telegram", "webhook", "set", url], obj={})
    assert result.exit_code == 0, result.output
    assert bot_api.webhook is not None
    assert bot_api.webhook["url"] == url and bot_api.webhook["secret_token"] == SECRET
    assert set(bot_api.webhook["allowed_updates"]) == {"message", "edited_message", "my_chat_member"}
    info = runner.invoke(cli, ["telegram", "webhook", "info", "--format", "json"], obj={})
    assert info.exit_code == 0 and json.loads(info.stdout)["url"] == url
    result = runner.invoke(cli, ["telegram", "webhook", "delete"], obj={})
    assert result.exit_code == 0, result.output
    assert bot_api.webhook is None
    assert TOKEN not in result.output


def test_set_without_a_secret_is_refused(bot_api: BotApiServer, monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("SATUPINTU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SATUPINTU_CONNECTORS__TELEGRAM__BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SATUPINTU_CONNECTORS__TELEGRAM__API_BASE_URL", bot_api.url)
    result = CliRunner().invoke(cli, ["telegram", "webhook", "set", "https://x.example/webhooks/telegram"], obj={})
    assert result.exit_code == 2 and "webhook_secret" in result.output
    assert bot_api.webhook is None
