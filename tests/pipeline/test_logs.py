"""Log lines never carry a reporter's address or phone number, whatever an error quotes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from config.settings import LogSettings
from pipeline.logs import configure_logging
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
