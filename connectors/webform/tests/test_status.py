"""The status resource shows every message to the reporter (the receipt once triage wrote it,
replies, the follow-up report, the survey link), the email's fate beside each, and says when a
submission held no report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from storage.tables import OUTBOX
from tests.support import Mailbox, Running, eventually, make_settings, running_pipeline, smtp_server

REPORTS = "/api/v1/reports"
REPORT = {"name": "Dewi", "email": "dewi@example.id", "text": "Wifi di asrama putri blok C mati sejak tiga hari."}


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


@pytest.fixture
async def mailing(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> AsyncIterator[tuple[Running, Mailbox]]:
    handler, port = mailbox
    settings = make_settings(tmp_path / "var", smtp={"host": "127.0.0.1", "port": port, "sender": "ult@example.ac.id"})
    async with running_pipeline(settings) as app:
        yield app, handler


def receipt_row(app: Running) -> dict[str, Any]:
    """The receipt's outbox row (typed columns), or an empty dict before triage wrote it."""
    with app.engine.connect() as connection:
        rows = [dict(r) for r in connection.execute(select(OUTBOX).where(OUTBOX.c.purpose == "receipt")).mappings()]
    assert len(rows) <= 1
    return rows[0] if rows else {}


async def submit_and_read(app: Running, until_outbox: Any) -> dict[str, Any]:
    """Submit REPORT, wait until the receipt's outbox row satisfies ``until_outbox``, read the status."""
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.post(REPORTS, json=REPORT) as response:
            assert response.status == 202
            status_url = (await response.json())["status_url"]
        await eventually(lambda: until_outbox(receipt_row(app)))
        async with http.get(status_url) as response:
            assert response.status == 200
            body: dict[str, Any] = await response.json()
    return body


def assert_receipt_shown(app: Running, status: dict[str, Any]) -> dict[str, Any]:
    row = receipt_row(app)
    assert status["tracking_number"]
    assert status["receipt"] is not None, "the receipt must show whatever became of the email"
    assert status["receipt"]["text"] == row["body"]
    assert status["tracking_number"] in status["receipt"]["text"]
    assert status["receipt"]["delivered_at"] is not None
    email: dict[str, Any] = status["receipt"]["email"]
    return email


async def test_refused_email_still_shows_the_receipt(mailing: tuple[Running, Mailbox]) -> None:
    app, handler = mailing
    handler.refuse_recipients = True
    status = await submit_and_read(app, lambda row: row.get("state") == "dead")
    assert assert_receipt_shown(app, status) == {"state": "failed", "sent_at": None}


async def test_email_being_retried_still_shows_the_receipt(mailing: tuple[Running, Mailbox]) -> None:
    app, handler = mailing
    handler.data_answer_after = "451 4.3.0 try again later"
    status = await submit_and_read(app, lambda row: row.get("state") == "pending" and row.get("error"))
    assert assert_receipt_shown(app, status) == {"state": "pending", "sent_at": None}


async def test_sent_email_is_reported_with_its_time(mailing: tuple[Running, Mailbox]) -> None:
    app, handler = mailing
    status = await submit_and_read(app, lambda row: row.get("state") == "sent")
    email = assert_receipt_shown(app, status)
    assert len(handler.received) == 1
    assert email["state"] == "sent"
    assert email["sent_at"] == receipt_row(app)["sent_at"].isoformat()


async def test_without_smtp_the_receipt_is_delivered_here_only(tmp_path: Path) -> None:
    async with running_pipeline(make_settings(tmp_path / "var")) as app:
        status = await submit_and_read(app, lambda row: row.get("state") == "sent")
        assert assert_receipt_shown(app, status) is None
        assert status["receipt"]["delivered_at"] == receipt_row(app)["created_at"].isoformat()


async def test_a_report_with_nothing_to_act_on_says_so_and_gives_no_ticket(tmp_path: Path) -> None:
    async with running_pipeline(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        async with http.post(REPORTS, json={"text": "halo", "phone": "0812-3456-7890"}) as response:
            assert response.status == 202
            report_id = (await response.json())["id"]
        await eventually(lambda: app.scalar("SELECT state FROM outbox") == "sent")
        async with http.get(f"{REPORTS}/{report_id}") as response:
            status = await response.json()
        async with http.get(f"/pengaduan/{report_id}") as response:
            page = await response.text()
    assert status["status"] == "no_report" and status["tracking_number"] is None, status
    [greeting] = status["messages"]
    assert greeting["purpose"] == "greeting" and "isi formulir laporan" in greeting["text"]
    assert "status <nomor" not in greeting["text"], "a web-form reporter cannot send a chat command"
    assert "None" not in page and "Nomor tiket Anda" not in page and "terdaftar" not in page
    assert "Pesan Anda sudah kami terima" in page and "tidak ada nomor tiket" in page
    assert 'href="/pengaduan"' in page, "it points to the form"
    assert 'http-equiv="refresh"' not in page


async def test_every_message_to_a_reporter_without_email_shows_on_the_status_resource(tmp_path: Path) -> None:
    """The officer's reply, the follow-up report and the survey link are "sent" to the status
    resource: it and the report's page show them, oldest first, after the receipt."""
    from tests.triage.test_lifecycle import COMPLETE, environment, routing_with_addresses, run

    settings = make_settings(
        tmp_path / "var",
        connectors={"webform": {}},
        routing_file=routing_with_addresses(tmp_path),
        survey={"public_url": "http://survey.example"},
    )
    env = environment(settings)
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        async with http.post(REPORTS, json={"name": "Dodi", "phone": "0812-3456-7890", "text": COMPLETE}) as r:
            report_id = (await r.json())["id"]
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)
        number = str(app.scalar("SELECT tracking_number FROM cases"))
        for step in (("verify", number), ("forward", number), ("start", number)):
            run(env, *step)
        run(env, "reply", number, "--text", "Teknisi menuju lokasi besok pagi.")
        run(env, "resolve", number, "--report", "AC sudah diganti dengan unit baru.")
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 4)
        async with http.get(f"{REPORTS}/{report_id}") as response:
            status = await response.json()
        async with http.get(f"/pengaduan/{report_id}") as response:
            page = await response.text()
    assert [m["purpose"] for m in status["messages"]] == ["receipt", "reply", "report", "survey"], status
    assert status["messages"][0]["text"] == status["receipt"]["text"]
    texts = [m["text"] for m in status["messages"]]
    assert "Teknisi menuju lokasi besok pagi." in texts[1] and "AC sudah diganti" in texts[2]
    assert "http://survey.example/survei/" in texts[3]
    assert all(m["email"] is None for m in status["messages"]), "no email applies"
    shown = run(env, "show", number).output
    assert shown.count("status-resource:") == 4, "each is marked sent to the status resource, which is now true"
    for phrase in ("Teknisi menuju lokasi besok pagi.", "AC sudah diganti", "http://survey.example/survei/"):
        assert phrase in page
    assert page.index("Teknisi menuju") < page.index("AC sudah diganti") < page.index("survey.example")
