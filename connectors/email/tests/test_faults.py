"""The faults a peer helpdesk fails (``peer-bench.md`` §4), each on a real Dovecot mailbox:
SIGKILL mid-import, two processes on one mailbox, another client expunging and flagging while we
import, and a poison message; with ``satupintu pull email --once`` for backfills and cron."""

from __future__ import annotations

import asyncio
import email
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from config.settings import Settings
from connectors.email.tests.dovecot import Mailbox
from connectors.email.tests.mails import UNIT, complaint
from storage.db import create_db_engine
from tests.conftest import delete_queues
from tests.support import Mailbox as SmtpBox
from tests.support import eventually, free_port, make_settings, running_pipeline, smtp_server
from tests.workers import Workers, workers

pytestmark = pytest.mark.slow


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpBox, int]]:
    handler = SmtpBox()
    with smtp_server(handler) as port:
        yield handler, port


def section(mailbox: Mailbox, smtp_port: int) -> dict[str, Any]:
    return mailbox.section(UNIT, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="plain")


def query(settings: Settings, sql: str) -> Any:
    engine = create_db_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).all()
    finally:
        engine.dispose()


def count(settings: Settings, sql: str) -> int:
    return int(query(settings, sql)[0][0])


def poison() -> bytes:
    """A 300-character Message-ID, a sender name no name column holds, and a multipart whose
    boundary never comes: legal enough for a mail server to deliver."""
    return (
        b"From: " + b"P" * 300 + b" <poison@example.id>\r\n"
        b"To: " + UNIT.encode() + b"\r\n"
        b"Subject: poison\r\n"
        b"Message-ID: <" + b"x" * 290 + b"@example.id>\r\n"
        b'Content-Type: multipart/mixed; boundary="never"\r\n'
        b"\r\n"
        b"no parts at all\r\n"
    )


async def test_sigkill_mid_import_then_restart_makes_every_case_once(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    total = 1000
    handler, port = smtp
    mailbox.write(complaint(n) for n in range(total))
    settings = make_settings(
        tmp_path / "var", connectors={"email": section(mailbox, port)}, pipeline={"stale_after_seconds": 2.0}
    )
    with workers(settings, tmp_path / "server.log") as started:
        assert started.command("db", "upgrade").returncode == 0
        first = started.start("run")
        await eventually(lambda: count(settings, "SELECT count(*) FROM raw_message") >= 200, timeout=60)
        assert started.kill(first) == -signal.SIGKILL
        stored_at_kill = count(settings, "SELECT count(*) FROM raw_message")
        started.start("run")
        await eventually(lambda: count(settings, "SELECT count(*) FROM cases") >= total, timeout=180)
        await eventually(lambda: len({m["To"] for m in handler.received}) >= total, timeout=120)
        await asyncio.sleep(2)
        assert started.stop() == [0]
    assert stored_at_kill < total, "the kill came mid-import"
    assert count(settings, "SELECT count(*) FROM raw_message") == total
    assert count(settings, "SELECT count(*) FROM cases") == total
    assert count(settings, "SELECT count(DISTINCT conversation_key) FROM cases") == total
    assert (
        count(
            settings,
            "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_message m WHERE m.case_id = c.id)",
        )
        == 0
    ), "no half-written case"
    ids_per_address: dict[str, set[str]] = {}
    for mail in handler.received:
        ids_per_address.setdefault(str(mail["To"]), set()).add(str(mail["Message-ID"]))
    assert len(ids_per_address) == total
    assert all(len(ids) == 1 for ids in ids_per_address.values()), "a receipt sent again keeps its Message-ID"


async def test_two_processes_on_one_mailbox_make_one_case_per_mail(
    postgres_url: str, rabbitmq_url: str, tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    total = 300
    _, port = smtp
    mailbox.write(complaint(n) for n in range(total))
    settings = make_settings(
        tmp_path / "var",
        database_url=postgres_url,
        broker_url=rabbitmq_url,
        connectors={"email": section(mailbox, port)},
    )
    other = settings.model_copy(update={"http": settings.http.model_copy(update={"port": free_port()})})
    try:
        with workers(settings, tmp_path / "a.log") as a, workers(other, tmp_path / "b.log") as b:
            assert a.command("db", "upgrade").returncode == 0
            a.start("run")
            b.start("run")
            await eventually(lambda: count(settings, "SELECT count(*) FROM cases") >= total, timeout=180)
            await asyncio.sleep(3)
            assert a.stop() == [0] and b.stop() == [0]
    finally:
        delete_queues(rabbitmq_url, settings.pipeline.queue_prefix, sorted(settings.connectors))
    assert count(settings, "SELECT count(*) FROM raw_message") == total
    assert count(settings, "SELECT count(*) FROM cases") == total
    assert count(settings, "SELECT count(DISTINCT conversation_key) FROM cases") == total


def meddle(mailbox: Mailbox, done: threading.Event, expunged: list[int]) -> None:
    """Another mail client: flags everything and expunges every tenth mail, while we import."""
    with mailbox.client() as client:
        uids = sorted(client.search(["ALL"]))
        for step, uid in enumerate(uids):
            if done.is_set():
                return
            client.add_flags([uid], [b"\\Flagged"])
            if step % 10 == 5:
                client.add_flags([uid], [b"\\Deleted"])
                client.expunge()
                expunged.append(uid)
            time.sleep(0.002)


async def test_another_client_expunging_and_flagging_makes_no_phantom_and_loses_nothing(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    total = 400
    _, port = smtp
    sent = {f"<complaint.{n:05d}@mail.example.id>" for n in range(total)}
    mailbox.write(complaint(n) for n in range(total))
    mailbox.uids()  # Dovecot numbers them now, so the other client sees them all
    done = threading.Event()
    expunged: list[int] = []
    settings = make_settings(tmp_path / "var", connectors={"email": section(mailbox, port)})
    async with running_pipeline(settings) as app:
        meddler = asyncio.create_task(asyncio.to_thread(meddle, mailbox, done, expunged))
        await meddler
        left = {email.message_from_bytes(data[b"BODY[]"])["Message-ID"] for data in _bodies(mailbox).values()}
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") >= len(left), timeout=60)
        await eventually(
            lambda: app.scalar("SELECT count(*) FROM raw_message WHERE state IN ('received', 'normalized')") == 0
        )
        stored = {r["external_id"].split(" ")[0] for r in app.rows("SELECT external_id FROM raw_message")}
        empty = app.scalar("SELECT count(*) FROM case_message WHERE text = ''")
        cases = app.scalar("SELECT count(*) FROM cases")
    assert expunged, "the other client expunged mail during the import"
    assert stored <= sent, "no phantom: every stored mail is one that was sent"
    assert left <= stored, "every mail still in the mailbox was imported"
    assert cases == len(stored) and empty == 0


def _bodies(mailbox: Mailbox) -> dict[int, Any]:
    with mailbox.client() as client:
        return dict(client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"]))


async def test_a_poison_message_is_dead_with_its_reason_and_pull_once_says_so(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    _, port = smtp
    mailbox.append([*(complaint(n) for n in range(10)), poison(), *(complaint(n) for n in range(10, 20))])
    settings = make_settings(tmp_path / "var", connectors={"email": section(mailbox, port)})
    started = Workers(settings, tmp_path / "server.log")
    assert started.command("db", "upgrade").returncode == 0
    first = started.command("pull", "email", "--once", "--format", "json")
    assert first.returncode == 1, first.stderr
    [report] = json.loads(first.stdout)["sources"]
    assert (report["fetched"], report["stored"], report["already_stored"]) == (21, 21, 0)
    [dead] = report["dead"]
    assert "Message-ID holds an id of 303 characters" in dead["reason"]
    assert "1 message(s) parked as dead" in first.stderr
    again = started.command("pull", "email", "--once")
    assert again.returncode == 0, again.stderr
    assert "0 fetched, 0 stored, 0 already stored, 0 dead" in again.stdout
    listed = started.command("dlq", "list", "--format", "json")
    assert "303 characters" in listed.stdout
    async with running_pipeline(settings) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 20)
        assert app.scalar("SELECT count(*) FROM raw_message WHERE state = 'dead'") == 1


async def test_pull_once_while_a_daemon_pulls_exits_75_naming_it(
    tmp_path: Path, mailbox: Mailbox, smtp: tuple[SmtpBox, int]
) -> None:
    _, port = smtp
    settings = make_settings(tmp_path / "var", connectors={"email": section(mailbox, port)})
    async with running_pipeline(settings) as app:
        holder = await eventually(lambda: app.scalar("SELECT holder FROM lease WHERE name = 'pull:email:INBOX'"))
        once = await asyncio.to_thread(Workers(settings, tmp_path / "x.log").command, "pull", "email", "--once")
    assert once.returncode == 75
    assert holder in once.stderr
