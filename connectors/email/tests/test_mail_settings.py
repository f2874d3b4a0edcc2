"""The web form's email receipts go out through the email channel's SMTP account, or through the
old ``[smtp]`` section, which still works and says once at start-up where its keys moved."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from pipeline.app import outgoing_mailer
from tests.support import Mailbox, Running, eventually, mail_through, make_settings, running_pipeline, smtp_server

REPORT = {"name": "Dewi", "email": "dewi@example.id", "text": "Wifi di asrama putri blok C tidak tersambung."}


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


async def submit(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=REPORT) as response:
        assert response.status == 202


def deprecation_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "[smtp]" in r.getMessage()]


async def test_web_form_receipts_go_through_the_email_channels_account(
    tmp_path: Path, mailbox: tuple[Mailbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    handler, port = mailbox
    old = {"host": "127.0.0.1", "port": 1, "sender": "old@itk.example.ac.id"}
    settings = make_settings(tmp_path / "var", connectors=mail_through(port), smtp=old)
    async with running_pipeline(settings) as app:
        await submit(app)
        [mail] = await eventually(lambda: handler.received)
    assert (mail["From"], mail["To"]) == ("ult@itk.example.ac.id", "dewi@example.id")
    assert not deprecation_warnings(caplog), "with smtp_host in [connectors.email], [smtp] is not read"


async def test_the_old_smtp_section_still_works_and_says_so_once(
    tmp_path: Path, mailbox: tuple[Mailbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    handler, port = mailbox
    settings = make_settings(
        tmp_path / "var", smtp={"host": "127.0.0.1", "port": port, "sender": "ult@itk.example.ac.id"}
    )
    caplog.set_level(logging.WARNING)
    async with running_pipeline(settings) as app:
        await submit(app)
        [mail] = await eventually(lambda: handler.received)
    assert mail["From"] == "ult@itk.example.ac.id"
    [warning] = deprecation_warnings(caplog)
    assert "[connectors.email]" in warning
    assert all(key in warning for key in ("address", "smtp_host", "smtp_port", "smtp_security", "smtp_password"))


def test_without_any_mail_settings_there_is_no_mailer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert outgoing_mailer(make_settings(tmp_path / "var")) is None
    assert not deprecation_warnings(caplog)
