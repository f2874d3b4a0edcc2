"""SIGKILL `satupintu run` while it is polling, start it again: every update Telegram held is
stored exactly once and becomes exactly one case with one receipt row. Telegram forgets an update
once an offset past it is asked for, so this holds only because the offset moves after storage."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest

from connectors.telegram.tests.botapi import TOKEN, BotApiServer
from storage.db import create_db_engine
from tests.support import Running, SettingsFactory, eventually
from tests.workers import workers

pytestmark = pytest.mark.slow

TOTAL = 40
KILL_AFTER = 8


def update(number: int) -> dict[str, Any]:
    user = {"id": 600000000 + number, "is_bot": False, "first_name": f"Pelapor {number}"}
    chat = {"id": 600000000 + number, "first_name": f"Pelapor {number}", "type": "private"}
    text = f"Lampu di ruang kelas E-{200 + number} mati sejak kemarin, mohon diperbaiki."
    return {
        "update_id": 830000000 + number,
        "message": {"message_id": 5, "from": user, "chat": chat, "date": 1764561600 + number, "text": text},
    }


async def test_sigkill_while_polling_loses_and_doubles_nothing(
    backend_settings: SettingsFactory, bot_api: BotApiServer, tmp_path: Path
) -> None:
    bot_api.page = 4  # small pages, so that the kill lands between two of them
    for number in range(TOTAL):
        bot_api.add_update(update(number))
    settings = backend_settings(
        connectors={"telegram": {"bot_token": TOKEN, "api_base_url": bot_api.url}},
        pipeline={"stale_after_seconds": 2.0, "send_lease_seconds": 4.0},
        pull={"lease_seconds": 2.0},
    )
    engine = create_db_engine(settings.database_url)
    app = Running(settings, "", engine, pipeline=None)  # type: ignore[arg-type]
    try:
        with workers(settings, tmp_path / "server.log") as started:
            first = started.start("run")
            await started.ready()
            await eventually(lambda: app.scalar("SELECT count(*) FROM raw_message") >= KILL_AFTER, timeout=60)
            assert started.kill(first) == -signal.SIGKILL
            assert len(bot_api.pending()) > 0, "the kill came before every update was read"

            started.start("run")
            await started.ready()
            every = {u["update_id"] for u in bot_api.updates}
            await eventually(lambda: bot_api.confirmed >= every, timeout=90)
            await eventually(
                lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == TOTAL, timeout=90
            )
            await asyncio.sleep(3)  # past the sweeper's timeout: a doubled work item would show now
            rows = app.rows("SELECT external_id, case_id FROM raw_message WHERE channel = 'telegram'")
            assert len(rows) == TOTAL == len({r["external_id"] for r in rows}), "each update stored once"
            assert app.scalar("SELECT count(*) FROM cases") == TOTAL
            per_case = app.rows("SELECT case_id, count(*) AS n FROM outbox GROUP BY case_id")
            assert len(per_case) == TOTAL and all(r["n"] == 1 for r in per_case), "one receipt per case"
            chats = {int(m["chat_id"]) for m in bot_api.sent}
            assert chats == {600000000 + n for n in range(TOTAL)}, "every reporter got the receipt"
            assert started.stop() == [0], started.tail()
    finally:
        engine.dispose()
