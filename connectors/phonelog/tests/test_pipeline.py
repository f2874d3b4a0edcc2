"""Phone calls through the whole pipeline, on both backends: one case per call, received when the
call was made (deadlines count from it), the receipt texted to a caller's mobile when a channel
can, else the case says to read the tracking number out; and the drop folder."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.desk import SMS, run_cli, sms_installed, texted
from tests.support import SettingsFactory, corpus, eventually, running_pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _utc(stored: datetime | str) -> datetime:
    """A stored time (SQLite hands it back as text, or without its zone)."""
    moment = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def test_each_call_is_a_case_received_when_it_was_made_and_read_out_without_a_channel(
    backend_settings: SettingsFactory,
) -> None:
    settings = backend_settings(connectors={"phonelog": {"enabled": True}})
    async with running_pipeline(settings) as app:
        result = await run_cli(settings, "import", "phonelog", str(corpus("phone-log", "rekap-telepon-oktober.csv")))
        assert result.exit_code == 0, result.output
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases WHERE channel = 'phonelog'") == 40, 60)
        again = await run_cli(settings, "import", "phonelog", str(corpus("phone-log", "rekap-telepon-oktober.csv")))
        assert "0 accepted, 40 already imported, 0 rejected" in again.stdout
        cases = app.rows("SELECT * FROM cases")
        assert len(cases) == 40

        def called(start: str) -> dict[str, Any]:
            return next(c for c in cases if c["subject"].startswith(start))

        first = called("Menanyakan jadwal pembayaran UKT semester")
        assert _utc(first["received_at"]) == datetime(2026, 10, 1, 0, 5, tzinfo=UTC), "08.05 WITA, the call itself"
        assert first["kind"] == "permintaan_informasi", "the officer's Kategori"
        late = called("Menelepon di luar jam kerja")
        # Friday 30 Oct 19:20: the receipt day is Monday 2 Nov, first follow-up due Wednesday 4 Nov.
        assert _utc(late["first_response_due"]).date() == datetime(2026, 11, 4).date()
        anonymous = [c for c in cases if c["anonymous"]]
        assert len(anonymous) == 4 and all(c["reporter_name"] is None for c in anonymous)
        confidential = [c["subject"][:30] for c in cases if c["confidential"]]
        assert len(confidential) >= 4, "every call the officer logged for SPI or Satgas PPKPT, at least"
        assert all(c["confidential"] for c in anonymous), "here each anonymous caller went to SPI or Satgas"
        assert app.scalar("SELECT count(*) FROM outbox") == 0, "no channel can text the callers"
        await eventually(lambda: app.scalar("SELECT count(*) FROM case_event WHERE action = 'receipt_in_person'") == 40)
        listing = await run_cli(settings, "cases", "list", "--in-person", "--limit", "100", "--format", "json")
        assert listing.exit_code == 0 and listing.stdout.count('"tracking_number"') == 40


async def test_a_caller_with_a_mobile_gets_the_receipt_by_text_a_landline_caller_has_it_read_out(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    outbox = tmp_path / "texted"
    with sms_installed(tmp_path):
        settings = backend_settings(
            connectors={"phonelog": {"enabled": True}, SMS: {"folder": str(outbox)}},
            replies={"fallback": [{"channel": SMS, "identity": "phone"}]},
        )
        async with running_pipeline(settings) as app:
            result = await run_cli(settings, "import", "phonelog", str(FIXTURES / "call__bom-multiline.csv"))
            assert result.exit_code == 0, result.output
            await eventually(lambda: len(texted(outbox)) == 1)
            [sms] = texted(outbox)
            assert sms.recipient.phone == "+6281355551234" and sms.purpose == "receipt"
            tracking = app.scalar("SELECT tracking_number FROM cases WHERE receipt_via = :c", c=SMS)
            assert tracking in sms.text
            landline = app.rows("SELECT id, receipt_via FROM cases WHERE receipt_via IS NULL")
            assert len(landline) == 1, "(0542) 8530900 cannot take a text"
            [event] = app.rows("SELECT detail FROM case_event WHERE action = 'receipt_in_person'")
            assert "fixed-line" in str(event["detail"])


async def test_a_file_dropped_in_the_inbox_is_imported_and_filed_with_its_report(
    backend_settings: SettingsFactory,
) -> None:
    settings = backend_settings(connectors={"phonelog": {"enabled": True}})
    inbox = settings.data_dir / "inbox" / "phonelog"
    async with running_pipeline(settings) as app:
        await eventually((inbox / "done").is_dir)
        shutil.copy(FIXTURES / "call__night-shift-cp1252.csv", inbox / "piket.csv.part")
        (inbox / "piket.csv.part").rename(inbox / "piket.csv")  # completely written: now it may be taken
        shutil.copy(corpus("phone-log", "bad-rows.csv"), inbox / "bad-rows.csv")
        await eventually((inbox / "done" / "piket.csv.report.json").is_file)
        await eventually((inbox / "failed" / "bad-rows.csv.report.json").is_file)
        assert not (inbox / "piket.csv").exists() and (inbox / "done" / "piket.csv").is_file()
        assert '"accepted": 3' in (inbox / "done" / "piket.csv.report.json").read_text()
        failed = (inbox / "failed" / "bad-rows.csv.report.json").read_text()
        assert '"rejected": 5' in failed and "isi laporan kosong" in failed
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases WHERE channel = 'phonelog'") == 8)
        shutil.copy(FIXTURES / "call__night-shift-cp1252.csv", inbox / "piket.csv")  # the same file again
        await eventually(lambda: len(list((inbox / "done").glob("*piket.csv.report.json"))) == 2)
        assert app.scalar("SELECT count(*) FROM cases WHERE channel = 'phonelog'") == 8
