"""The database goes away while a receipt is being sent: the provider's answer is kept and
written when the database is back, so the receipt is not sent a second time after the outage."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from tests.pipeline.receipts import report, submit
from tests.pipeline.slowmail import SlowMailbox, slow_mail_settings
from tests.proxy import TcpProxy
from tests.support import eventually, running_pipeline, smtp_server


async def test_a_receipt_sent_just_before_a_database_outage_is_sent_once(
    tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    handler = SlowMailbox(delay=1.0)
    caplog.set_level(logging.INFO, logger="pipeline.outcomes")
    with TcpProxy(postgres_url) as database, smtp_server(handler) as port:
        settings = slow_mail_settings(tmp_path / "var", port, database_url=database.url)
        async with running_pipeline(settings) as app:
            async with aiohttp.ClientSession() as http:
                await submit(http, app.base_url, report(1))
            await asyncio.to_thread(handler.sending.wait, 20)
            database.cut()  # while the provider takes the mail
            await eventually(lambda: handler.received)
            await asyncio.sleep(2.5)  # the outcome cannot be written; the sweeper's patience passes
            database.restore()
            await eventually(lambda: app.scalar("SELECT state FROM outbox") == "sent", timeout=20)
            await asyncio.sleep(2.5)  # past the sweeper's patience again: a second send would begin
            assert handler.attempts == 1
            assert handler.per_recipient() == {"pelapor1@example.id": 1}
    messages = [r.getMessage() for r in caplog.records if r.name == "pipeline.outcomes"]
    assert len(messages) == 2, messages
    assert messages[0].startswith("database unreachable") and "held send outcomes written" in messages[1]
