"""Receipts by email through a real SMTP server: sent, retried, dead-lettered and replayed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from tests.support import Mailbox, Running, eventually, make_settings, running_pipeline, smtp_server
from workers import cli

REPORT = {
    "name": "Dewi",
    "email": "dewi@example.id",
    "text": "Wifi di asrama putri blok C tidak bisa tersambung sejak tiga hari.",
}


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


def smtp_settings(tmp_path: Path, port: int) -> Any:
    return make_settings(tmp_path / "var", smtp={"host": "127.0.0.1", "port": port, "sender": "ult@itk.example.ac.id"})


async def submit(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=REPORT) as response:
        assert response.status == 202


def outbox(app: Running) -> dict[str, Any]:
    """The one outbox row, or an empty dict before triage wrote it."""
    rows = app.rows("SELECT * FROM outbox")
    assert len(rows) <= 1
    return rows[0] if rows else {}


async def test_receipt_is_mailed_when_smtp_is_configured(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    async with running_pipeline(smtp_settings(tmp_path, port)) as app:
        await submit(app)
        await eventually(lambda: handler.received)
        await eventually(lambda: outbox(app).get("state") == "sent")
        [mail] = handler.received
        tracking = app.scalar("SELECT tracking_number FROM cases")
        assert mail["To"] == "dewi@example.id"
        assert tracking in mail["Subject"]
        assert mail["Auto-Submitted"] == "auto-replied"
        [plain] = [part for part in mail.walk() if part.get_content_type() == "text/plain"]
        body = plain.get_payload(decode=True)
        assert isinstance(body, bytes) and tracking in body.decode(plain.get_content_charset() or "utf-8")
        assert outbox(app)["provider_message_id"] == mail["Message-ID"]


async def test_transient_smtp_failures_are_retried(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.data_answers = ["451 4.3.0 try again later", "421 4.7.0 too busy"]
    async with running_pipeline(smtp_settings(tmp_path, port)) as app:
        await submit(app)
        await eventually(lambda: outbox(app).get("state") == "sent")
        assert handler.attempts == 3
        assert len(handler.received) == 1


async def test_refused_recipient_is_dead_lettered_then_replayed(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.refuse_recipients = True
    settings = smtp_settings(tmp_path, port)
    env = {
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_PIPELINE__QUEUE_PREFIX": settings.pipeline.queue_prefix,
        "SATUPINTU_SMTP__HOST": "127.0.0.1",
        "SATUPINTU_SMTP__PORT": str(port),
        "SATUPINTU_SMTP__SENDER": "ult@itk.example.ac.id",
    }
    runner = CliRunner()
    async with running_pipeline(settings) as app:
        await submit(app)
        await eventually(lambda: outbox(app).get("state") == "dead")
        assert "550" in outbox(app)["error"]
        assert not handler.received

        listed = runner.invoke(cli, ["dlq", "list", "--format", "json"], env=env, obj={})
        assert listed.exit_code == 0, listed.output
        ref = f"outbox:{outbox(app)['id']}"
        assert ref in listed.output and "550" in listed.output

        shown = runner.invoke(cli, ["dlq", "show", ref], env=env, obj={})
        assert shown.exit_code == 0 and "mailbox unavailable" in shown.output

        handler.refuse_recipients = False  # the cause is fixed
        replayed = runner.invoke(cli, ["dlq", "replay", ref], env=env, obj={})
        assert replayed.exit_code == 0, replayed.output
        await eventually(lambda: outbox(app).get("state") == "sent")
        assert len(handler.received) == 1
        actions = [r["action"] for r in app.rows("SELECT action FROM case_event ORDER BY id")]
        assert actions == ["created", "receipt_failed", "receipt_sent"]

        again = runner.invoke(cli, ["dlq", "replay", ref], env=env, obj={})
        assert again.exit_code == 1 and "not a dead message" in again.output
