"""Mail read from a real Dovecot mailbox through the whole pipeline, receipts to a real SMTP server.

What a unit would notice: a mail that arrives while we run becomes a case and its sender gets one
receipt; mail that arrived while we were down is all taken when we start; a restart takes nothing
twice; a renumbered folder (UIDVALIDITY) is read again without duplicates; a reporter's answer to
the receipt joins the case; an auto-reply opens nothing and gets nothing; a server that is down
or refuses our password turns the channel's health red with a reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.email.tests.dovecot import Dovecot, Mailbox, running_dovecot
from connectors.email.tests.mails import UNIT, auto_reply, complaint
from tests.support import Mailbox as SmtpBox
from tests.support import Running, eventually, make_settings, running_pipeline, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpBox, int]]:
    handler = SmtpBox()
    with smtp_server(handler) as port:
        yield handler, port


def email_section(mailbox: Mailbox, smtp_port: int, **extra: Any) -> dict[str, Any]:
    return mailbox.section(UNIT, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="plain", **extra)


def settings_for(tmp_path: Path, mailbox: Mailbox, smtp_port: int, **extra: Any) -> Any:
    return make_settings(tmp_path / "var", connectors={"email": email_section(mailbox, smtp_port, **extra)})


def cases(app: Running) -> list[dict[str, Any]]:
    return app.rows("SELECT id, tracking_number, conversation_key, subject FROM cases ORDER BY id")


def receipts_to(handler: SmtpBox, address: str) -> list[Any]:
    return [m for m in handler.received if address in str(m["To"])]


def pull_health(app: Running) -> dict[str, Any]:
    import json

    value = app.scalar("SELECT value FROM connector_state WHERE channel = 'email' AND key = 'health:INBOX'")
    return json.loads(value) if value else {}


async def test_mail_arriving_while_running_becomes_a_case_with_one_receipt(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    handler, port = smtp
    async with running_pipeline(settings_for(tmp_path, mailbox, port)) as app:
        await eventually(lambda: pull_health(app).get("state") == "ok")  # idling on an empty folder
        mailbox.append([complaint(1, sender="rina@student.itk.ac.id")])
        [receipt] = await eventually(lambda: receipts_to(handler, "rina@student.itk.ac.id"))
        [case] = cases(app)
    assert case["tracking_number"] in receipt["Subject"]
    assert receipt["In-Reply-To"] == "<complaint.00001@mail.example.id>", "the receipt threads in her mail client"
    assert receipt["From"] == UNIT and receipt["Auto-Submitted"] == "auto-replied"
    assert mailbox.uids(), "kept in the mailbox (after_import = keep)"
    with mailbox.client() as client:
        assert not any(b"\\Seen" in f for f in client.get_flags(mailbox.uids()).values()), "fetched with BODY.PEEK[]"


async def test_mail_that_came_while_we_were_down_is_all_taken_and_a_restart_takes_none_twice(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    handler, port = smtp
    settings = settings_for(tmp_path, mailbox, port)
    mailbox.append([complaint(n) for n in range(1, 6)])
    with mailbox.client() as client:  # a person read two of them on a phone already
        client.add_flags(mailbox.uids()[:2], [b"\\Seen"])
    async with running_pipeline(settings) as app:
        await eventually(lambda: len(cases(app)) == 5)
        cursor = app.scalar("SELECT value FROM connector_state WHERE channel = 'email' AND key = 'cursor:INBOX'")
    assert cursor == f"{mailbox.uidvalidity()}:{max(mailbox.uids())}"
    mailbox.append([complaint(n) for n in range(6, 9)])  # while we are down again
    async with running_pipeline(settings) as app:
        await eventually(lambda: len(cases(app)) == 8)
        await eventually(lambda: len(handler.received) == 8)
        await asyncio.sleep(1.5)  # time for anything taken twice to show
        assert len(cases(app)) == 8
        assert app.scalar("SELECT count(*) FROM raw_message") == 8
    assert len(handler.received) == 8


async def test_a_renumbered_folder_is_read_again_without_duplicates(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    _, port = smtp
    settings = settings_for(tmp_path, mailbox, port)
    mailbox.append([complaint(n) for n in range(1, 4)])
    async with running_pipeline(settings) as app:
        await eventually(lambda: len(cases(app)) == 3)
    before = mailbox.uidvalidity()
    mailbox.renumber()
    mailbox.append([complaint(4)])
    async with running_pipeline(settings) as app:
        await eventually(lambda: len(cases(app)) == 4)
        await eventually(
            lambda: app.scalar("SELECT value FROM connector_state WHERE key = 'cursor:INBOX'").startswith(
                str(mailbox.uidvalidity())
            )
        )
        assert app.scalar("SELECT count(*) FROM raw_message") == 4
    assert mailbox.uidvalidity() != before


async def test_the_reporters_answer_to_the_receipt_joins_her_case(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    handler, port = smtp
    async with running_pipeline(settings_for(tmp_path, mailbox, port)) as app:
        mailbox.append([complaint(1, sender="rina@student.itk.ac.id")])
        [receipt] = await eventually(lambda: receipts_to(handler, "rina@student.itk.ac.id"))
        answer = complaint(
            2,
            sender="rina@student.itk.ac.id",
            subject=f"Re: {receipt['Subject']}",
            text="Berikut saya tambahkan fotonya.\n\nPada Sen, 2 Nov 2026 09.15 ULT <ult@itk.example.ac.id> menulis:\n"
            "> Laporan Anda telah kami terima.\n",
            in_reply_to=receipt["Message-ID"],
            references=f"<complaint.00001@mail.example.id> {receipt['Message-ID']}",
        )
        mailbox.append([answer])
        await eventually(lambda: app.scalar("SELECT count(*) FROM case_message") == 2)
        [case] = cases(app)
        texts = [r["text"] for r in app.rows("SELECT text FROM case_message ORDER BY id")]
        await asyncio.sleep(1.0)
        assert len(handler.received) == 1, "an answer in a case is not acknowledged again"
    assert texts[1] == "Berikut saya tambahkan fotonya.", "the quoted receipt is cut off the text shown"
    assert case["id"]


async def test_an_auto_reply_opens_no_case_and_gets_no_receipt(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    handler, port = smtp
    async with running_pipeline(settings_for(tmp_path, mailbox, port)) as app:
        mailbox.append([auto_reply(1, sender="dosen@itk.ac.id"), complaint(2, sender="budi@student.itk.ac.id")])
        await eventually(lambda: receipts_to(handler, "budi@student.itk.ac.id"))
        await eventually(lambda: app.scalar("SELECT count(*) FROM raw_message WHERE state = 'received'") == 0)
        await asyncio.sleep(1.0)
        assert len(cases(app)) == 1
        assert app.scalar("SELECT count(*) FROM raw_message") == 2
    assert not receipts_to(handler, "dosen@itk.ac.id")


async def test_mail_from_our_own_address_is_never_a_report(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    handler, port = smtp
    async with running_pipeline(settings_for(tmp_path, mailbox, port)) as app:
        mailbox.append([complaint(1, sender=UNIT, name="ULT ITK"), complaint(2)])
        await eventually(lambda: len(handler.received) == 1)
        await eventually(lambda: app.scalar("SELECT count(*) FROM raw_message WHERE state = 'ignored'") == 1)
        assert len(cases(app)) == 1
    assert UNIT not in str(handler.received[0]["To"])


async def test_a_server_that_is_down_turns_health_red_and_mail_is_taken_once_it_is_back(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    _, port = smtp
    section = email_section(mailbox, port, imap_port=1)  # nothing listens there
    settings = make_settings(tmp_path / "var", connectors={"email": section}, pull={"max_backoff_seconds": 1})
    async with running_pipeline(settings) as app:
        health = await eventually(lambda: pull_health(app).get("state") == "failing" and pull_health(app))
    assert "IMAP 127.0.0.1:1" in health["last_error"]


async def test_a_refused_password_says_so_and_turns_health_red(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    _, port = smtp
    section = email_section(mailbox, port, password="salah")
    async with running_pipeline(make_settings(tmp_path / "var", connectors={"email": section})) as app:
        health = await eventually(lambda: pull_health(app).get("state") == "auth_failed" and pull_health(app))
    assert "refused the login" in health["last_error"]


async def test_a_server_that_goes_away_and_comes_back_is_said_once_each_and_nothing_is_lost(
    tmp_path: Path, dovecot: Dovecot, smtp: tuple[SmtpBox, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.pull")
    _, port = smtp
    mailbox = dovecot.add_user()
    settings = make_settings(
        tmp_path / "var", connectors={"email": email_section(mailbox, port)}, pull={"max_backoff_seconds": 0.5}
    )
    async with running_pipeline(settings) as app:
        mailbox.append([complaint(1)])
        await eventually(lambda: len(cases(app)) == 1)
        dovecot.stop()
        await eventually(lambda: pull_health(app).get("state") == "failing")
        await asyncio.sleep(2)  # several failed tries
        dovecot.start()
        mailbox.append([complaint(2)])
        await eventually(lambda: len(cases(app)) == 2)
        await eventually(lambda: pull_health(app).get("state") == "ok")
    messages = [r.getMessage() for r in caplog.records if r.name == "pipeline.pull"]
    assert len([m for m in messages if m.startswith("pull failed")]) == 1, messages
    assert len([m for m in messages if m.startswith("pull source works again")]) == 1, messages


async def test_idle_is_issued_again_and_mail_still_comes(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    handler, port = smtp
    async with running_pipeline(settings_for(tmp_path, mailbox, port, idle_seconds=0.5)) as app:
        await eventually(lambda: pull_health(app).get("state") == "ok")
        await asyncio.sleep(3)  # several IDLEs come and go
        mailbox.append([complaint(1)])
        await eventually(lambda: len(handler.received) == 1)


@pytest.fixture(scope="module")
def without_idle() -> Iterator[Dovecot]:
    with running_dovecot(extra="imap_capability = IMAP4rev1 LITERAL+ UIDPLUS MOVE\n") as server:
        yield server


async def test_a_server_without_idle_is_polled(
    tmp_path: Path, without_idle: Dovecot, smtp: tuple[SmtpBox, int]
) -> None:
    handler, port = smtp
    mailbox = without_idle.add_user()
    with mailbox.client() as client:
        assert b"IDLE" not in client.capabilities()
    async with running_pipeline(settings_for(tmp_path, mailbox, port)) as app:
        await eventually(lambda: pull_health(app).get("state") == "ok")
        mailbox.append([complaint(1)])
        await eventually(lambda: len(handler.received) == 1)
        mailbox.append([complaint(2)])
        await eventually(lambda: len(handler.received) == 2)
