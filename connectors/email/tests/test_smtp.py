"""Sending through a real SMTP server (aiosmtpd): the headers a mail client and other robots
read, and SMTP's answers turned into retry-later or give-up."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from connectors.base import OutboundMessage, PermanentSendError, Recipient, TransientSendError
from connectors.email import EmailConnector
from connectors.email.smtp import SmtpAccount, SmtpMailer
from tests.support import Mailbox, free_port, smtp_server

UNIT = "ult@itk.example.ac.id"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


def connector(port: int) -> EmailConnector:
    section = {"address": UNIT, "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "plain"}
    return EmailConnector.from_section(section)


def outbound(**changes: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "outbox_id": 1,
        "case_id": 1,
        "channel": "email",
        "purpose": "receipt",
        "idempotency_key": "receipt:1",
        "recipient": Recipient(via="email", conversation_key="calllog:1", email="siti@example.id"),
        "subject": "[ULT-26-00001-3] Laporan Anda telah kami terima",
        "text": "Nomor tiket: ULT-26-00001-3",
    }
    return OutboundMessage(**{**fields, **changes})


async def test_a_receipt_is_mailed_from_the_units_address(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    result = await connector(port).send(outbound())
    [mail] = handler.received
    assert (mail["From"], mail["To"]) == (UNIT, "siti@example.id")
    assert mail["Subject"] == "[ULT-26-00001-3] Laporan Anda telah kami terima"
    assert mail["Auto-Submitted"] == "auto-replied", "other systems must not answer a receipt"
    assert mail["Message-ID"] == result.provider_message_id
    assert mail["Message-ID"].endswith("@itk.example.ac.id>")
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = (part for part in mail.walk() if not part.is_multipart())
    assert b"Nomor tiket: ULT-26-00001-3" in plain.get_payload(decode=True)
    assert html.get_content_type() == "text/html"
    assert b"<p>Nomor tiket: ULT-26-00001-3</p>" in html.get_payload(decode=True)


async def test_a_resent_row_keeps_its_message_id(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    email = connector(port)
    first = await email.send(outbound())
    again = await email.send(outbound())
    other = await email.send(outbound(outbox_id=2, idempotency_key="receipt:2"))
    assert first == again != other
    assert [m["Message-ID"] for m in handler.received] == [first.provider_message_id] * 2 + [other.provider_message_id]


async def test_an_officers_reply_threads_and_is_not_marked_automatic(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    await connector(port).send(outbound(purpose="reply", in_reply_to="<abc@example.id>"))
    [mail] = handler.received
    assert mail["In-Reply-To"] == mail["References"] == "<abc@example.id>"
    assert mail["Auto-Submitted"] is None


async def test_a_refused_recipient_is_given_up(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.refuse_recipients = True
    with pytest.raises(PermanentSendError, match="recipient refused: 550") as refused:
        await connector(port).send(outbound())
    assert refused.value.code == "550"


async def test_a_deferral_is_retried_later(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.data_answers = ["451 4.3.0 try again later"]
    with pytest.raises(TransientSendError, match="SMTP 451"):
        await connector(port).send(outbound())


async def test_a_permanent_answer_to_the_mail_is_given_up(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.data_answers = ["554 5.6.0 message refused"]
    with pytest.raises(PermanentSendError, match="SMTP 554"):
        await connector(port).send(outbound())


async def test_no_address_is_given_up_without_connecting() -> None:
    with pytest.raises(PermanentSendError, match="no email address"):
        await connector(free_port()).send(outbound(recipient=Recipient(via="phone", conversation_key="c", phone="+62")))


async def test_an_unreachable_server_is_retried_later() -> None:
    with pytest.raises(TransientSendError, match="SMTP unreachable"):
        await connector(free_port()).send(outbound())


class SlowMailbox(Mailbox):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(2)
        return await super().handle_DATA(server, session, envelope)


async def test_a_server_too_slow_to_answer_is_retried_later() -> None:
    with smtp_server(SlowMailbox()) as port:
        mailer = SmtpMailer(SmtpAccount("127.0.0.1", port, "plain", UNIT), timeout=0.3)
        with pytest.raises(TransientSendError, match="SMTP unreachable"):
            await mailer.send_mail(to="siti@example.id", subject="s", text="t", message_id="receipt:1")


async def test_indonesian_text_a_long_thread_and_lines_starting_with_a_dot_arrive_intact(
    mailbox: tuple[Mailbox, int],
) -> None:
    handler, port = mailbox
    subject = "[ULT-26-00001-3] Laporan “beasiswa” Anda — diterima ✓ " + " ".join(["panjang"] * 20)
    text = "Yth. Bapak/Ibu,\n\n.\n.titik di awal baris\r\nSalam hangat — ULT ✓"
    thread = [f"<m{n}.{'x' * 30}@example.id>" for n in range(40)]
    mailer = SmtpMailer(SmtpAccount("127.0.0.1", port, "plain", UNIT))
    await mailer.send_mail(
        to="siti@example.id",
        subject=subject,
        text=text,
        message_id="reply:1",
        in_reply_to=thread[-1],
        references=thread,
    )
    [received] = handler.received
    mail = email.message_from_bytes(received.as_bytes(), policy=policy.default)  # as a mail client reads it
    assert mail["Subject"] == subject
    assert mail["References"].split() == thread
    plain, html = (part for part in mail.walk() if not part.is_multipart())
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    assert plain.get_content().replace("\r\n", "\n") == text.replace("\r\n", "\n")
    assert "<p>Yth. Bapak/Ibu,</p>" in html.get_content()


async def test_a_header_value_with_a_line_break_is_never_sent(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    mailer = SmtpMailer(SmtpAccount("127.0.0.1", port, "plain", UNIT))
    with pytest.raises(PermanentSendError, match="line break"):
        await mailer.send_mail(to="siti@example.id", subject="a\r\nBcc: x@example.id", text="t", message_id="r:1")
    assert handler.received == []
