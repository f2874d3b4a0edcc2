"""Email receipts that cannot go out are said to be off, once, when the pipeline starts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.webform.connector import _say_email_receipts_are_off
from tests.support import Mailbox, eventually, make_settings, running_pipeline, smtp_server

REPORT = {"email": "pelapor@example.id", "text": "Wifi asrama mati."}


@pytest.fixture(autouse=True)
def fresh_process() -> Iterator[None]:
    """The warning is said once a process; each test here stands for a process of its own."""
    _say_email_receipts_are_off.cache_clear()
    yield
    _say_email_receipts_are_off.cache_clear()


def receipts_off_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and "email receipts are off" in r.message]


async def run_one_report(tmp_path: Path, **overrides: Any) -> None:
    """Start every component and let one receipt go out, so that every component has started."""
    async with running_pipeline(make_settings(tmp_path / "var", **overrides)) as app:
        async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=REPORT) as response:
            assert response.status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)


async def test_without_smtp_one_warning_names_the_setting(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    await run_one_report(tmp_path)
    [warning] = receipts_off_warnings(caplog)
    assert "connectors.email.smtp_host" in warning.message and "email_receipts" in warning.message


async def test_with_smtp_nothing_is_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with smtp_server(Mailbox()) as port:
        await run_one_report(tmp_path, smtp={"host": "127.0.0.1", "port": port, "sender": "ult@example.ac.id"})
    assert receipts_off_warnings(caplog) == []


async def test_receipts_turned_off_on_purpose_are_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await run_one_report(tmp_path, connectors={"webform": {"email_receipts": False}})
    assert receipts_off_warnings(caplog) == []
