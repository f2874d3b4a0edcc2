"""``satupintu letter add`` and the agenda sheet through the whole pipeline, on both backends:
a case per agenda number with its printed receipt; registering it again adds nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pypdf import PdfReader

from tests.desk import run_cli
from tests.support import SettingsFactory, eventually, running_pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


async def test_a_fax_gets_a_case_and_a_printed_receipt_once_by_its_agenda_number(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = backend_settings(connectors={"letter": {"enabled": True}})
    printed = tmp_path / "tanda-terima.pdf"
    scan = tmp_path / "faks.pdf"
    scan.write_bytes(b"%PDF-1.4 the fax as scanned")
    add = (
        "letter", "add", "--medium", "fax", "--agenda-number", "051/ULT/XII/2026", "--sender", "SMA Negeri 5",
        "--dated", "2026-11-30", "--subject", "Permohonan data", "--text", "Mohon data alumni yang diterima tahun ini.",
        "--attach", str(scan), "--print", str(printed), "--format", "json",
    )  # fmt: skip
    async with running_pipeline(settings) as app:
        first = await run_cli(settings, *add)
        assert first.exit_code == 0, first.output
        tracking = json.loads(first.stdout)["tracking_number"]
        reader = PdfReader(io.BytesIO(printed.read_bytes()))
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        assert tracking in text and "Faksimile, nomor agenda 051/ULT/XII/2026" in text
        [case] = app.rows("SELECT * FROM cases")
        assert case["channel"] == "letter" and case["reporter_name"] == "SMA Negeri 5"
        assert case["subject"] == "Permohonan data"
        again = await run_cli(settings, *add)
        assert json.loads(again.stdout) | {"printed_to": None} == json.loads(first.stdout) | {
            "outcome": "already_imported",
            "printed_to": None,
        }
        assert app.scalar("SELECT count(*) FROM cases") == 1
        assert app.scalar("SELECT count(*) FROM attachment") == 2, "the scan and the receipt"


async def test_the_agenda_book_imports_and_its_letters_become_cases(backend_settings: SettingsFactory) -> None:
    settings = backend_settings(connectors={"letter": {"enabled": True}})
    async with running_pipeline(settings) as app:
        result = await run_cli(settings, "import", "letter", str(FIXTURES / "letter__agenda.csv"))
        assert result.exit_code == 0, result.output
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases WHERE channel = 'letter'") == 2)
        again = await run_cli(settings, "import", "letter", str(FIXTURES / "letter__agenda.csv"))
        assert "0 accepted, 2 already imported, 0 rejected" in again.stdout


async def test_a_fax_that_says_almost_nothing_still_gets_its_case_and_a_future_date_is_refused(
    backend_settings: SettingsFactory,
) -> None:
    settings = backend_settings(connectors={"letter": {"enabled": True}})
    add = ("letter", "add", "--medium", "fax", "--agenda-number", "047/ULT/XII/2026", "--sender", "X", "--text", "x")
    early = await run_cli(settings, *add, "--dated", "2026-11-30", "--wait", "0")
    assert early.exit_code == 0, early.output
    assert "waiting for triage" in early.stderr, "no pipeline runs yet: the officer is told where it is"
    async with running_pipeline(settings) as app:
        later = await run_cli(settings, *add, "--dated", "2026-11-30", "--format", "json")
        assert later.exit_code == 0, later.output
        assert json.loads(later.stdout)["tracking_number"].startswith("ULT-"), "registered, so never caseless"
        assert app.scalar("SELECT count(*) FROM caseless_message") == 0
        assert app.scalar("SELECT count(*) FROM outbox WHERE purpose = 'greeting'") == 0
        future = await run_cli(
            settings, "letter", "add", "--medium", "letter", "--agenda-number", "048/ULT/XII/2026",
            "--sender", "SMA Negeri 5", "--text", "Mohon data alumni.", "--dated", "2099-01-01",
        )  # fmt: skip
        assert future.exit_code == 1
        assert "--dated: tanggal surat 2099-01-01 sesudah tanggal diterima" in future.stderr
        assert app.scalar("SELECT count(*) FROM raw_message") == 1
