"""Where a receipt goes, through the whole pipeline: the report's own channel when it can send,
else a phone or email the report gave by a channel that can, else the officer gives the
tracking number in person."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support import Mailbox, Running, SettingsFactory, eventually, running_pipeline, smtp_server
from tests.triage.channels import CALLLOG_PATH, sent

pytestmark = pytest.mark.usefixtures("test_channels")

MOBILE = "0812-3456-7891"
MOBILE_E164 = "+6281234567891"
# The default order, with the test's phone channel where WhatsApp and SMS stand.
FALLBACK = [{"channel": "phonechat", "identity": "phone"}, {"channel": "email", "identity": "email"}]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


def email_section(port: int) -> dict[str, Any]:
    return {"address": "ult@itk.example.ac.id", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "plain"}


async def post(app: Running, path: str, body: dict[str, Any]) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.post(path, json=body) as response:
        assert response.status == 202, await response.text()


async def log_call(app: Running, **reporter: str) -> dict[str, Any]:
    """Log one call and wait for its case."""
    await post(app, CALLLOG_PATH, {"id": "call-1", "text": "Lampu jalan di depan gedung C mati.", **reporter})
    await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 1)
    [case] = app.rows("SELECT * FROM cases")
    return case


def receipts(app: Running) -> list[dict[str, Any]]:
    rows = app.rows("SELECT * FROM outbox")
    for row in rows:
        if isinstance(row["recipient"], str):  # SQLite hands JSON back as text
            row["recipient"] = json.loads(row["recipient"])
    return rows


async def test_a_web_form_report_gets_its_receipt_on_the_web_form(backend_settings: SettingsFactory) -> None:
    async with running_pipeline(backend_settings()) as app:
        await post(app, "/api/v1/reports", {"name": "Rina", "email": "rina@example.id", "text": "Wifi asrama mati."})
        await eventually(lambda: app.scalar("SELECT state FROM outbox") == "sent")
        [receipt] = receipts(app)
        assert (receipt["channel"], receipt["recipient"]["via"]) == ("webform", "conversation")
        assert app.scalar("SELECT receipt_via FROM cases") == "webform"


async def test_a_call_from_a_mobile_gets_its_receipt_by_a_phone_channel(
    backend_settings: SettingsFactory, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    chats = tmp_path / "phonechat"
    connectors = {"calllog": {}, "phonechat": {"folder": str(chats)}, "email": email_section(mailbox[1])}
    async with running_pipeline(backend_settings(connectors=connectors, replies={"fallback": FALLBACK})) as app:
        case = await log_call(app, name="Siti Aminah", phone=MOBILE, email="siti@example.id")
        [message] = await eventually(lambda: sent(chats))
        assert case["receipt_via"] == "phonechat"
        assert (message.channel, message.recipient.via, message.recipient.phone) == ("phonechat", "phone", MOBILE_E164)
        assert message.recipient.email is None and message.in_reply_to is None
        assert case["tracking_number"] in message.text
        await eventually(lambda: app.scalar("SELECT state FROM outbox") == "sent")
        assert not mailbox[0].received, "one receipt, by the first route that applies"


async def test_the_fallback_order_is_configured(
    backend_settings: SettingsFactory, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    handler, port = mailbox
    chats = tmp_path / "phonechat"
    settings = backend_settings(
        connectors={"calllog": {}, "phonechat": {"folder": str(chats)}, "email": email_section(port)},
        replies={
            "fallback": [{"channel": "email", "identity": "email"}, {"channel": "phonechat", "identity": "phone"}]
        },
    )
    async with running_pipeline(settings) as app:
        case = await log_call(app, name="Siti Aminah", phone=MOBILE, email="Siti@Example.id")
        [mail] = await eventually(lambda: handler.received)
        assert case["receipt_via"] == "email"
        assert mail["To"] == "siti@example.id"
        assert mail["Auto-Submitted"] == "auto-replied"
        assert case["tracking_number"] in mail["Subject"]
        await eventually(lambda: app.scalar("SELECT state FROM outbox") == "sent")
        assert not sent(chats)


@pytest.mark.parametrize(
    ("phonechat", "phone"),
    [(False, MOBILE), (True, "021 5550 1234")],
    ids=["no-sending-channel", "office-line"],
)
async def test_a_call_no_channel_can_answer_is_given_in_person(
    backend_settings: SettingsFactory, tmp_path: Path, phonechat: bool, phone: str
) -> None:
    chats = tmp_path / "phonechat"
    connectors: dict[str, Any] = {"calllog": {}, "phonechat": {"folder": str(chats), "enabled": phonechat}}
    async with running_pipeline(backend_settings(connectors=connectors, replies={"fallback": FALLBACK})) as app:
        case = await log_call(app, name="Siti Aminah", phone=phone)
        assert case["receipt_via"] is None
        [event] = app.rows("SELECT * FROM case_event WHERE action = 'receipt_in_person'")
        detail = event["detail"] if isinstance(event["detail"], dict) else json.loads(event["detail"])
        assert detail["reason"].startswith("calllog cannot send")
        assert not receipts(app)
        assert app.scalar("SELECT state FROM raw_message") == "triaged"
