"""``satupintu walkin add`` through the whole pipeline, on both backends: a case per visit with
its printed one-page receipt (read back with a PDF text extractor) kept on the case, the receipt
also by email when the visitor gave an address, or the recorded "give it in person"."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import inspect, text

from storage.blobs import BlobStore
from storage.db import create_db_engine
from tests.desk import SMS, run_cli, sms_installed
from tests.support import Mailbox, SettingsFactory, eventually, mail_through, running_pipeline, smtp_server

TEXT = "Nilai mata kuliah Kalkulus saya tidak muncul di KHS padahal sudah ujian."


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


async def test_a_visitor_gets_a_printed_receipt_kept_on_the_case_and_one_by_email(
    backend_settings: SettingsFactory, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    handler, port = mailbox
    settings = backend_settings(connectors={**mail_through(port), "walkin": {"enabled": True}})
    scan = tmp_path / "khs.pdf"
    scan.write_bytes(b"%PDF-1.4 a scan the visitor brought")
    printed = tmp_path / "receipt.pdf"
    add = (
        "walkin", "add", "--queue-number", "A012", "--name", "Dimas Pratama", "--nik", "6471012345678901",
        "--email", "dimas@example.id", "--text", TEXT, "--attach", str(scan), "--print", str(printed),
        "--format", "json",
    )  # fmt: skip
    async with running_pipeline(settings) as app:
        result = await run_cli(settings, *add)
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        tracking = answer["tracking_number"]
        assert answer["outcome"] == "accepted" and tracking.startswith("ULT-")
        pages, text = pdf_text(printed.read_bytes())
        assert pages == 1
        assert tracking in text and "TANDA TERIMA LAPORAN" in text and "nomor antrian A012" in text
        assert "Tindak lanjut pertama paling lambat" in text and "Target penyelesaian" in text
        kept = answer["receipt_pdf"]
        assert BlobStore(settings.blob_dir).get(kept["sha256"]) == printed.read_bytes(), "the same PDF, on the case"
        files = app.rows(
            "SELECT a.filename FROM attachment a JOIN case_message m ON m.id = a.case_message_id "
            "JOIN cases c ON c.id = m.case_id WHERE c.tracking_number = :t ORDER BY a.id",
            t=tracking,
        )
        assert [f["filename"] for f in files] == ["khs.pdf", f"tanda-terima-{tracking}.pdf"]
        await eventually(lambda: len(handler.received) == 1)
        assert tracking in handler.received[0]["Subject"]

        again = await run_cli(settings, *add)
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["outcome"] == "already_imported"
        assert json.loads(again.stdout)["tracking_number"] == tracking
        assert app.scalar("SELECT count(*) FROM cases") == 1
        assert app.scalar("SELECT count(*) FROM attachment") == 2, "the receipt is kept once"
        assert BlobStore(settings.blob_dir).get(kept["sha256"]) == printed.read_bytes(), "a reprint is the same file"

        other = await run_cli(settings, "walkin", "add", "--queue-number", "A012", "--text", "Lain hal.")
        assert other.exit_code == 1
        assert "registered already with other details" in other.stderr
        shown = await run_cli(settings, "cases", "show", tracking)
        assert f"tanda-terima-{tracking}.pdf (application/pdf" in shown.stdout


async def test_a_visitor_without_a_contact_is_handed_the_receipt_and_the_case_says_so(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = backend_settings(connectors={"walkin": {"enabled": True}})
    printed = tmp_path / "receipt.pdf"
    async with running_pipeline(settings) as app:
        result = await run_cli(
            settings, "walkin", "add", "--queue-number", "b3", "--text", TEXT, "--print", str(printed)
        )
        assert result.exit_code == 0, result.output
        assert "hand over the printed receipt" in result.stdout
        tracking = app.scalar("SELECT tracking_number FROM cases")
        assert tracking in pdf_text(printed.read_bytes())[1] and "nomor antrian B3" in pdf_text(printed.read_bytes())[1]
        assert app.scalar("SELECT count(*) FROM case_event WHERE action = 'receipt_in_person'") == 1
        assert app.scalar("SELECT count(*) FROM outbox") == 0


async def test_without_a_running_pipeline_the_officer_is_told_and_the_same_command_prints_later(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = backend_settings(connectors={"walkin": {"enabled": True}})
    printed = tmp_path / "receipt.pdf"
    add = ("walkin", "add", "--queue-number", "A001", "--phone", "0812 7000 1111", "--text", TEXT)
    early = await run_cli(settings, *add, "--wait", "0.5", "--print", str(printed))
    assert early.exit_code == 0, early.output
    assert "the tracking number comes when a running satupintu picks it up" in early.stderr
    assert not printed.exists()
    async with running_pipeline(settings):
        later = await run_cli(settings, *add, "--print", str(printed))
        assert later.exit_code == 0, later.output
        assert "already imported" not in later.stderr
        assert pdf_text(printed.read_bytes())[0] == 1


async def test_bad_input_is_refused_naming_the_option_and_nothing_is_stored(
    backend_settings: SettingsFactory,
) -> None:
    settings = backend_settings(connectors={"walkin": {"enabled": True}})
    result = await run_cli(
        settings, "walkin", "add", "--queue-number", "A 0 1 2 !", "--nik", "123", "--phone", "0812-34S6", "--text", " "
    )
    assert result.exit_code == 1
    for line in ("--queue-number: nomor antrian tidak valid", "--nik: NIK harus 16 angka",
                 "--phone: nomor telepon tidak valid", "--text: isi laporan kosong"):  # fmt: skip
        assert line in result.stderr
    engine = create_db_engine(settings.database_url)
    try:
        if inspect(engine).has_table("raw_message"):
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM raw_message")).scalar() == 0
    finally:
        engine.dispose()


async def test_a_registration_for_a_channel_not_enabled_is_refused(backend_settings: SettingsFactory) -> None:
    settings = backend_settings()
    result = await run_cli(settings, "walkin", "add", "--queue-number", "A001", "--text", TEXT)
    assert result.exit_code == 2
    assert "set [connectors.walkin] enabled = true" in result.stderr


async def test_a_receipt_still_queued_is_said_to_be_going_not_sent_and_the_paper_has_the_full_status_address(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    """The SMS gateway is unreachable (no deliver stage runs): the copy waits in the outbox."""
    with sms_installed(tmp_path):
        settings = backend_settings(
            connectors={"walkin": {"enabled": True}, SMS: {"folder": str(tmp_path / "texted")}},
            replies={"fallback": [{"channel": SMS, "identity": "phone"}]},
            survey={"public_url": "https://layanan.itk.example.ac.id/"},
        )
        printed = tmp_path / "r.pdf"
        add = ("walkin", "add", "--queue-number", "C07", "--phone", "081298765432", "--text", TEXT)
        async with running_pipeline(settings, ("http", "normalizer", "triage", "sweeper")) as app:
            result = await run_cli(settings, *add, "--print", str(printed))
            assert result.exit_code == 0, result.output
            assert app.scalar("SELECT state FROM outbox WHERE purpose = 'receipt'") == "pending"
            assert f"receipt: also going by {SMS} (queued" in result.stdout
            assert "also sent by" not in result.stdout
            text = " ".join(pdf_text(printed.read_bytes())[1].split())
            assert "akan dikirim melalui" in text and "telah dikirim" not in text
            assert "https://layanan.itk.example.ac.id/status" in text and "(/status)" not in text
