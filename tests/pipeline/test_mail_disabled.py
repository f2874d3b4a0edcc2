"""A disabled email channel sends nothing: not its own replies, nor the web form's receipts
through its SMTP account (``pipeline.app.outgoing_mailer``), nor through the old ``[smtp]``."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from pipeline.app import outgoing_mailer
from tests.support import Mailbox, eventually, mail_through, make_settings, running_pipeline, smtp_server

REPORT = {"name": "Dewi", "email": "dewi@example.id", "text": "Wifi di asrama putri blok C tidak tersambung."}


async def test_with_email_disabled_the_web_forms_receipt_is_not_mailed(tmp_path: Path) -> None:
    handler = Mailbox()
    with smtp_server(handler) as port:
        connectors = mail_through(port)
        connectors["email"]["enabled"] = False
        old = {"host": "127.0.0.1", "port": port, "sender": "old@itk.example.ac.id"}
        settings = make_settings(tmp_path / "var", connectors=connectors, smtp=old)
        assert outgoing_mailer(settings) is None
        async with running_pipeline(settings) as app:
            async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=REPORT) as sent:
                assert sent.status == 202
            await eventually(lambda: app.scalar("SELECT state FROM outbox WHERE purpose = 'receipt'") == "sent")
            assert str(app.scalar("SELECT provider_message_id FROM outbox")).startswith("status-resource:")
        assert handler.received == [], "nothing went out by mail"
