"""Log lines never carry a reporter's address or phone number, whatever an error quotes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from config.settings import LogSettings
from envelopes import NormalizedMessage
from pipeline.logs import configure_logging, reason
from storage.db import create_db_engine
from tests.support import eventually, make_settings, running_pipeline


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_identities_quoted_by_errors_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(level="INFO", format="json"))
    logger = logging.getLogger("satupintu.test")
    refusal = "550 5.1.1 <siti.rahma@kampus.ac.id>: Recipient address rejected"
    try:
        raise ValueError(f"cannot reach +6281234567890 or 0812-3456-7890: {refusal}")
    except ValueError:
        logger.exception("outbound message refused for good: %s", refusal, extra={"outbox_id": 7})

    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["outbox_id"] == 7
    assert "<email>" in record["event"]
    for identity in ("siti.rahma@kampus.ac.id", "6281234567890", "0812-3456-7890"):
        assert identity not in line
    assert "<phone>" in record["exception"], "the traceback is masked too"


def logged(capsys: pytest.CaptureFixture[str], message: str, *args: object) -> str:
    """What one error line says, through the JSON logging the processes use."""
    configure_logging(LogSettings(level="INFO", format="json"))
    logging.getLogger("satupintu.test").error(message, *args)
    [line] = capsys.readouterr().err.splitlines()
    return str(json.loads(line)["event"])


@pytest.mark.parametrize(
    "phone", ["+62 812-3456-7891", "(0812) 3456-7891", "0812.3456.7891", "021 5550 1234", "62 812 3456 7891"]
)
def test_phone_numbers_however_written_are_masked(capsys: pytest.CaptureFixture[str], phone: str) -> None:
    assert logged(capsys, "provider refused %s: not on WhatsApp", phone) == "provider refused <phone>: not on WhatsApp"


@pytest.mark.parametrize(
    "text",
    [
        "case ULT-26-00012-3 opened",
        "raw_message_ids=[12345678, 12345679]",
        "queued at 2026-12-01 08:04:44",
        "broker 127.0.0.1:5672 is back",
        "blob 4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce stored",
    ],
)
def test_what_an_operator_follows_by_is_not_mistaken_for_a_phone(capsys: pytest.CaptureFixture[str], text: str) -> None:
    assert logged(capsys, "%s", text) == text


def test_a_validation_errors_input_is_not_logged(capsys: pytest.CaptureFixture[str]) -> None:
    """The records hide their input in errors at the source; a model that does not (a library's)
    still has its quoted input masked by the last processor."""

    class Lax(BaseModel):
        name: str
        age: int

    submission = {"name": "Siti Aminah", "email": "siti@example.id", "phone": "081234567890", "text": 42}
    with pytest.raises(ValidationError) as ours:
        NormalizedMessage.model_validate({"channel": "webform", "reporter": submission})
    with pytest.raises(ValidationError) as theirs:
        Lax.model_validate({"name": [submission["name"]], "age": submission["name"]})
    configure_logging(LogSettings(level="INFO", format="json"))
    logger = logging.getLogger("satupintu.test")
    for caught in (ours, theirs):
        try:
            raise caught.value
        except ValidationError as exc:
            logger.exception("normalize failed: %s", exc)
            logger.error("invalid work item: %s", exc.errors()[:2])
    output = capsys.readouterr().err
    assert "Siti Aminah" not in output and "Siti" not in output
    assert "input_value=<hidden>" in output and "'input': <hidden>" in output
    assert "channel_message_id" in output and "Field required" in output, "the problem itself stays readable"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_a_failed_statement_logs_neither_its_parameters_nor_the_row(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A NOT NULL violation: SQLAlchemy quotes the parameters, PostgreSQL the failing row."""
    engine = create_db_engine(database_url)
    configure_logging(LogSettings(level="INFO", format="json"))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, note TEXT NOT NULL)"))
        with pytest.raises(IntegrityError) as caught, engine.begin() as connection:
            values = {"id": 1, "name": "Siti Aminah", "note": None}
            connection.execute(text("INSERT INTO person (id, name, note) VALUES (:id, :name, :note)"), values)
        logging.getLogger("satupintu.test").error("triage failed: %r", caught.value, exc_info=caught.value)
    finally:
        engine.dispose()
    output = capsys.readouterr().err
    record = json.loads(output)
    assert "Siti" not in output
    assert "INSERT INTO person" in record["exception"] and "note" in record["exception"], "the cause stays readable"


async def test_an_operator_can_follow_a_message_through_the_info_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    report = {"name": "Rina", "email": "rina@example.id", "text": "AC di ruang kuliah B201 rusak sejak minggu lalu."}
    settings = make_settings(tmp_path / "var")
    caplog.set_level(logging.INFO)
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        async with http.post("/api/v1/reports", json=report) as response:
            assert response.status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)
        [row] = app.rows(
            "SELECT r.id, r.case_id, c.tracking_number FROM raw_message r JOIN cases c ON c.id = r.case_id"
        )

    trail = {
        r.getMessage(): r.__dict__ for r in caplog.records if r.name.startswith(("pipeline", "normalizer", "triage"))
    }
    raw_id, case_id, tracking = row["id"], row["case_id"], row["tracking_number"]
    assert trail["stored"]["raw_message_ids"] == [raw_id] and trail["stored"]["channel"] == "webform"
    assert trail["normalized"]["raw_message_ids"] == [raw_id]
    assert trail["triaged"]["new_case_ids"] == [case_id] and trail["triaged"]["tracking_numbers"] == [tracking]
    assert trail["sent"]["case_ids"] == [case_id]
    assert not any("rina" in r.getMessage().lower() or "rina" in str(r.__dict__).lower() for r in caplog.records)


def test_a_url_in_an_error_is_cut_to_its_host(capsys: pytest.CaptureFixture[str]) -> None:
    """A client library quotes the URL it asked, and a bot's token is in Telegram's."""
    error = (
        "401, message='Unauthorized', url='https://api.telegram.org/bot123456:AAH-secret-token/sendMessage?chat_id=9'"
        " via https://relay:hunter2@proxy.example.net:8080/path"
    )
    line = logged(capsys, "send failed: %s", error)
    assert "secret-token" not in line and "chat_id" not in line and "hunter2" not in line
    assert "url='https://api.telegram.org/…'" in line and "https://proxy.example.net:8080/…" in line


def test_the_reason_an_error_is_kept_with_is_redacted_like_a_log_line() -> None:
    """What rows and health records keep of an error: its type and its redacted message."""
    exc = ConnectionError("no route to https://api.example.net/bot42:SECRET/getUpdates for siti@example.id")
    assert reason(exc) == "ConnectionError: no route to https://api.example.net/… for <email>"
    assert reason(TimeoutError()) == "TimeoutError"
