"""More mailboxes of one unit, what happens to processed mail, attachments into the blob store, and
the guards on what we send: never to ourselves or to a no-reply address, few automatic mails per
address per hour; and the configuration an admin writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import ConnectorConfigError, OutboundMessage, PermanentSendError, Recipient
from connectors.email import EmailConnector
from connectors.email.tests.dovecot import Dovecot, Mailbox
from connectors.email.tests.mails import UNIT, complaint
from storage.blobs import BlobStore
from tests.support import Mailbox as SmtpBox
from tests.support import eventually, make_settings, running_pipeline, smtp_server

BEASISWA = "beasiswa@itk.example.ac.id"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpBox, int]]:
    handler = SmtpBox()
    with smtp_server(handler) as port:
        yield handler, port


def smtp_keys(port: int) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "plain"}


async def test_a_mail_is_answered_from_the_account_it_came_to(
    tmp_path: Path, dovecot: Dovecot, smtp: tuple[SmtpBox, int]
) -> None:
    handler, port = smtp
    main, other = dovecot.add_user(), dovecot.add_user()
    beasiswa = {"address": BEASISWA, "username": other.user, "password": other.password}
    section = main.section(UNIT, **smtp_keys(port), accounts={"beasiswa": beasiswa})
    async with running_pipeline(make_settings(tmp_path / "var", connectors={"email": section})) as app:
        main.append([complaint(1, sender="a@student.itk.ac.id")])
        other.append([complaint(2, sender="b@student.itk.ac.id")])
        await eventually(lambda: len(handler.received) == 2)
        sources = {r["key"] for r in app.rows("SELECT key FROM connector_state WHERE key LIKE 'cursor:%'")}
    senders = {str(m["To"]): str(m["From"]) for m in handler.received}
    assert senders == {"a@student.itk.ac.id": UNIT, "b@student.itk.ac.id": BEASISWA}
    assert sources == {"cursor:INBOX", "cursor:beasiswa:INBOX"}, "one cursor per account and folder"


@pytest.mark.parametrize("after_import", ["flag", "move:Processed"])
async def test_processed_mail_is_flagged_or_moved_once_it_is_stored(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int], after_import: str
) -> None:
    _, port = smtp
    section = mailbox.section(UNIT, **smtp_keys(port), after_import=after_import)
    mailbox.append([complaint(n) for n in range(3)])
    async with running_pipeline(make_settings(tmp_path / "var", connectors={"email": section})) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 3)
        if after_import == "flag":
            await eventually(lambda: _flagged(mailbox) == 3)
        else:
            await eventually(lambda: not mailbox.uids() and len(mailbox.uids("Processed")) == 3)
    if after_import == "flag":
        with mailbox.client() as client:
            assert not any(b"\\Seen" in f for f in client.get_flags(mailbox.uids()).values())


def _flagged(mailbox: Mailbox) -> int:
    with mailbox.client() as client:
        return sum(b"\\Flagged" in flags for flags in client.get_flags(client.search(["ALL"])).values())


async def test_attachments_reach_the_case_and_the_blob_store(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    _, port = smtp
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"
    settings = make_settings(tmp_path / "var", connectors={"email": mailbox.section(UNIT, **smtp_keys(port))})
    mailbox.append([complaint(1, attachment=pdf)])
    async with running_pipeline(settings) as app:
        [row] = await eventually(lambda: app.rows("SELECT filename, content_type, size, sha256 FROM attachment"))
    assert (row["filename"], row["content_type"], row["size"]) == ("bukti-1.pdf", "application/pdf", len(pdf))
    assert BlobStore(settings.blob_dir).get(row["sha256"]) == pdf


def connector(**section: Any) -> EmailConnector:
    return EmailConnector.from_section({"address": UNIT, "smtp_host": "127.0.0.1", "smtp_security": "plain", **section})


def outbound(recipient: Recipient, purpose: str = "receipt", key: str = "receipt:1") -> OutboundMessage:
    return OutboundMessage(
        outbox_id=1,
        case_id=1,
        channel="email",
        purpose=purpose,
        idempotency_key=key,
        recipient=recipient,
        subject="[ULT-26-00001-3] Laporan Anda telah kami terima",
        text="Nomor tiket: ULT-26-00001-3",
    )


@pytest.mark.parametrize("address", [UNIT, "ULT@itk.example.ac.id", "noreply@sistem.id", "MAILER-DAEMON@mx.id"])
async def test_nothing_is_sent_to_our_own_or_a_no_reply_address(address: str, smtp: tuple[SmtpBox, int]) -> None:
    handler, port = smtp
    with pytest.raises(PermanentSendError, match="not sent"):
        await connector(smtp_port=port).send(outbound(Recipient(via="email", conversation_key="k", email=address)))
    assert not handler.received


async def test_one_address_gets_at_most_auto_replies_per_hour_automatic_mails(smtp: tuple[SmtpBox, int]) -> None:
    handler, port = smtp
    email = connector(smtp_port=port, auto_replies_per_hour=2)
    to = Recipient(via="email", conversation_key="k", email="siti@example.id")
    await email.send(outbound(to, key="receipt:1"))
    await email.send(outbound(to, key="receipt:1"))  # the same row again (a retry) counts once
    await email.send(outbound(to, key="receipt:2"))
    with pytest.raises(PermanentSendError, match="auto_replies_per_hour"):
        await email.send(outbound(to, key="receipt:3"))
    await email.send(outbound(to, purpose="reply", key="reply:4"))  # an officer's reply is not automatic
    assert len(handler.received) == 4


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"imap_host": "imap.example.ac.id"}, "imap_host needs username and password"),
        (
            {"imap_host": "imap.example.ac.id", "username": "u", "password": "p", "imap_security": "plain"},
            "imap_security = plain is refused",
        ),
        ({"after_import": "delete"}, "after_import"),
        ({"accounts": {"main": {"address": "x@itk.example.ac.id"}}}, "accounts.main is the main section"),
        ({"accounts": {"b": {"address": UNIT}}}, "an address of its own"),
        ({"folders": []}, "folders"),
    ],
)
def test_a_wrong_setting_stops_start_up_naming_it(section: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConnectorConfigError, match=problem):
        connector(**section)


def test_an_extra_account_takes_the_servers_of_the_main_section(tmp_path: Path) -> None:
    secret = tmp_path / "beasiswa"
    secret.write_text("rahasia-beasiswa\n")
    email = connector(
        imap_host="127.0.0.1",
        imap_security="plain",
        username="ult",
        password="p",
        accounts={"beasiswa": {"address": BEASISWA, "username": "beasiswa", "password_file": str(secret)}},
    )
    account = email.accounts["beasiswa"]
    assert (account.imap_host, account.imap_security, account.smtp_host) == ("127.0.0.1", "plain", "127.0.0.1")
    assert account.password is not None and account.password.get_secret_value() == "rahasia-beasiswa"
    assert set(email.pull_sources()) == {"INBOX", "beasiswa:INBOX"}


def test_without_imap_host_the_channel_only_sends() -> None:
    assert connector().pull_sources() == ()
