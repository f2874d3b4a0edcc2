"""``/start`` and ``/status <no>`` pass through to triage, which answers them for every channel:
``/start`` gets the short greeting and opens no case; ``/status`` answers the case's state only to
its reporter; anyone else gets the answer a number nobody has gets."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from connectors.telegram.tests.botapi import TOKEN, BotApiServer
from tests.support import SettingsFactory, eventually, running_pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def message(update_id: int, message_id: int, text: str, user: int = 700100200) -> dict[str, Any]:
    update: dict[str, Any] = json.loads((FIXTURES / "message__text.json").read_text())
    update = copy.deepcopy(update)
    update["update_id"] = update_id
    body = update["message"]
    body["message_id"], body["text"] = message_id, text
    body["chat"]["id"] = body["from"]["id"] = user
    return update


def to(bot_api: BotApiServer, chat: int) -> list[str]:
    return [str(m["text"]) for m in bot_api.sent if int(m["chat_id"]) == chat]


async def test_start_is_greeted_and_status_answers_only_the_reporter(
    backend_settings: SettingsFactory, bot_api: BotApiServer
) -> None:
    settings = backend_settings(connectors={"telegram": {"bot_token": TOKEN, "api_base_url": bot_api.url}})
    async with running_pipeline(settings) as app:
        bot_api.add_update(message(1, 1, "/start"))
        await eventually(lambda: to(bot_api, 700100200))
        assert "status <nomor tiket>" in to(bot_api, 700100200)[0]
        assert app.scalar("SELECT count(*) FROM cases") == 0, "a greeting opens no case"

        report = "UKT saya sudah dibayar tanggal 20 November tetapi di SIAKAD masih tertulis belum lunas."
        bot_api.add_update(message(2, 2, report))
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 1)
        tracking = app.scalar("SELECT tracking_number FROM cases")
        await eventually(lambda: any(tracking in t for t in to(bot_api, 700100200)))

        bot_api.add_update(message(3, 3, f"/status {tracking}"))
        await eventually(lambda: len(to(bot_api, 700100200)) == 3)
        answer = to(bot_api, 700100200)[2]
        assert tracking in answer and "Status:" in answer and "paling lambat" in answer, answer

        bot_api.add_update(message(4, 1, f"/status@ult_kampus_bot {tracking}", user=700999999))
        await eventually(lambda: to(bot_api, 700999999))
        assert tracking not in to(bot_api, 700999999)[0], "a stranger learns nothing of the case"
        assert app.scalar("SELECT count(*) FROM cases") == 1
