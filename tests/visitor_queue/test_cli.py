"""``satupintu queue`` and ``report queue`` as the counter officer types them when the display or
the browser is down, and ``walkin add --queue-number ... --answered`` closing a question answered
at the counter."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader

from storage.db import create_db_engine
from storage.migrate import upgrade
from tests.desk import run_cli
from tests.support import SettingsFactory, eventually, running_pipeline

ANSWERED = (
    "walkin",
    "add",
    "--queue-number",
    "B001",
    "--text",
    "Jam buka layanan legalisir hari Sabtu?",
    "--answered",
    "Sabtu tutup; Senin-Jumat 08.00-15.00.",
)


async def test_the_queue_commands_take_call_set_aside_return_serve_and_report(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = backend_settings()
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    ticket = tmp_path / "ticket.pdf"
    first = await run_cli(settings, "queue", "take", "pengaduan", "--print", str(ticket))
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == "A001  Loket Pengaduan  0 waiting before it"
    page = PdfReader(io.BytesIO(ticket.read_bytes())).pages[0].extract_text()
    assert "A001" in page and "Loket Pengaduan" in page and "Tidak ada antrean di depan Anda" in page
    for _ in range(4):
        assert (await run_cli(settings, "queue", "take", "pengaduan")).exit_code == 0  # A002 .. A005

    calls = [await run_cli(settings, "queue", "call", "pengaduan") for _ in range(3)]
    assert calls[2].output.strip() == (
        "calling A001 at Loket Pengaduan, call 3 of 3: Nomor antrian A satu, silakan ke Loket Pengaduan"
    )
    skipped = await run_cli(settings, "queue", "call", "pengaduan", "--format", "json")
    made = json.loads(skipped.stdout)
    assert (made["set_aside"], made["number"], made["call"]) == ("A001", "A002", 1)
    back = await run_cli(settings, "queue", "returned", "a1")
    assert back.output.strip() == "A001 is back in line, called after 3 waiting numbers"
    served = await run_cli(settings, "queue", "served", "A002")
    assert served.exit_code == 0 and served.output.startswith("A002 served (waited ")

    status = json.loads((await run_cli(settings, "queue", "status", "pengaduan", "--format", "json")).stdout)
    assert status["current"] is None
    assert [t["number"] for t in status["waiting"]] == ["A003", "A004", "A005", "A001"]
    assert [t["number"] for t in status["served"]] == ["A002"] and status["set_aside"] == []
    assert all(t["waited_minutes"] >= 0 for t in status["waiting"])

    again = await run_cli(settings, "queue", "returned", "A003")
    assert again.exit_code == 1 and "A003 is waiting, not set aside" in again.output
    unknown = await run_cli(settings, "queue", "call", "kasir")
    assert unknown.exit_code == 1 and "no counter 'kasir'" in unknown.output

    today = datetime.now(UTC).astimezone(settings.zone).date().isoformat()
    report = await run_cli(settings, "report", "queue", "--from", today, "--to", today, "--format", "json")
    [row] = json.loads(report.stdout)
    assert (row["counter"], row["visitors"], row["served"], row["not_present"], row["waiting"]) == (
        "pengaduan",
        5,
        1,
        0,
        4,
    )
    assert row["wait_median_minutes"] is not None
    table = await run_cli(settings, "report", "queue", "--from", today, "--to", today)
    assert "Loket Pengaduan" in table.output and "visitors    5" in table.output


async def test_a_question_answered_at_the_counter_is_recorded_and_closed_at_once(
    backend_settings: SettingsFactory,
) -> None:
    settings = backend_settings(connectors={"walkin": {"enabled": True}})
    async with running_pipeline(settings) as app:
        assert (await run_cli(settings, "queue", "take", "informasi")).exit_code == 0
        assert (await run_cli(settings, "queue", "call", "informasi")).exit_code == 0
        result = await run_cli(settings, *ANSWERED)
        assert result.exit_code == 0, result.output
        tracking = app.scalar("SELECT tracking_number FROM cases")
        assert f"{tracking}: answered at the counter, closed" in result.output
        await eventually(lambda: app.scalar("SELECT status FROM cases") == "closed")
        events = [row["action"] for row in app.rows("SELECT action FROM case_event ORDER BY id")]
        assert events[-2:] == ["answered_at_desk", "closed"]
        assert app.scalar("SELECT count(*) FROM outbox WHERE purpose = 'notice'") == 0
        again = await run_cli(settings, *ANSWERED)  # the same visit again: its case is closed already
        assert again.exit_code == 1 and "the answer was not recorded" in again.output
