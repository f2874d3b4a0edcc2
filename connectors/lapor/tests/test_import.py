"""LAPOR! exports through the whole pipeline, on both backends: one case per LAPOR! report with
its tracking ID beside ours everywhere ours is shown, no receipt from us, anonymity and
confidentiality carried over; an unchanged re-export does nothing, a changed status or
disposition updates the case once, as an event; the follow-ups the unit wrote, for the admin."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.desk import run_cli
from tests.support import Running, SettingsFactory, eventually, running_pipeline

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "report__dashboard-export.csv"


def later_export(tmp_path: Path, **status: str) -> Path:
    """The same export a week later, with some reports' status changed."""
    rows = list(csv.reader(EXPORT.open(encoding="utf-8", newline="")))
    for row in rows[1:]:
        row[5] = status.get(f"r{row[0]}", row[5])
    target = tmp_path / "export-later.csv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target


def case_of(app: Running, lapor_id: str) -> dict[str, Any]:
    [case] = app.rows("SELECT * FROM cases WHERE external_ref = :r", r=lapor_id)
    return case


def events(app: Running, case_id: int, action: str) -> list[dict[str, Any]]:
    rows = app.rows("SELECT detail FROM case_event WHERE case_id = :c AND action = :a ORDER BY id", c=case_id, a=action)
    return [json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"] for r in rows]


async def test_an_export_becomes_cases_with_lapor_ids_and_no_receipt_of_ours(backend_settings: SettingsFactory) -> None:
    settings = backend_settings(connectors={"lapor": {"enabled": True}})
    async with running_pipeline(settings) as app:
        result = await run_cli(settings, "import", "lapor", str(EXPORT))
        assert result.exit_code == 0, result.output
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases WHERE channel = 'lapor'") == 3)
        assert app.scalar("SELECT count(*) FROM outbox") == 0, "LAPOR! told the reporters; we send no receipt"
        named = case_of(app, "4512873")
        assert named["reporter_name"] == "Sari Dewanti" and named["receipt_via"] == "lapor"
        [follow_up] = events(app, named["id"], "follow_up_elsewhere")
        assert follow_up["platform"] == "SP4N-LAPOR!" and follow_up["status"] == "Diproses"
        assert follow_up["url"].endswith("/4512873")
        secret = case_of(app, "4512990")
        assert secret["confidential"] and secret["reporter_name"] is None
        anonymous = case_of(app, "4513104")
        assert anonymous["anonymous"] and anonymous["reporter_name"] is None
        payloads = " ".join(str(p) for p in app.rows("SELECT payload FROM raw_message"))
        assert "Rahmat" not in payloads and "rahmat@example.id" not in payloads, (
            "a confidential reporter is never stored"
        )

        listing = await run_cli(settings, "cases", "list")
        assert f"{named['tracking_number']} (LAPOR! 4512873)" in listing.stdout
        shown = await run_cli(settings, "cases", "show", named["tracking_number"])
        assert "external_ref         LAPOR! 4512873" in shown.stdout
        assert "no receipt from us: LAPOR! told the reporter; post follow-ups there" in shown.stdout
        async with aiohttp.ClientSession(app.base_url) as http:
            query = {"tracking": named["tracking_number"], "contact": "sari.dewanti@example.id"}
            async with http.get("/api/v1/status", params=query) as response:
                assert response.status == 200
                assert (await response.json())["lapor_tracking_id"] == "4512873"
            async with http.get("/status", params=query) as response:
                assert "Nomor SP4N-LAPOR!</dt><dd>4512873" in await response.text()

        again = await run_cli(settings, "import", "lapor", str(EXPORT))
        assert "0 accepted, 3 already imported, 0 rejected" in again.stdout


async def test_a_later_export_with_a_changed_status_updates_the_case_once(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = backend_settings(connectors={"lapor": {"enabled": True}})
    later = later_export(tmp_path, r4512873="Selesai")
    async with running_pipeline(settings) as app:
        assert (await run_cli(settings, "import", "lapor", str(EXPORT))).exit_code == 0
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 3)
        changed = await run_cli(settings, "import", "lapor", str(later))
        assert "1 accepted, 2 already imported, 0 rejected" in changed.stdout
        case = case_of(app, "4512873")
        await eventually(lambda: events(app, case["id"], "external_status_changed"))
        [update] = events(app, case["id"], "external_status_changed")
        assert update["before"] == {"status": "Diproses", "disposition": "Institut Teknologi Kalimantan"}
        assert update["status"] == "Selesai"
        await eventually(lambda: app.scalar("SELECT count(*) FROM raw_message WHERE state = 'triaged'") == 4)
        again = await run_cli(settings, "import", "lapor", str(later))
        assert "0 accepted, 3 already imported, 0 rejected" in again.stdout
        assert app.scalar("SELECT count(*) FROM cases") == 3
        assert app.scalar("SELECT count(*) FROM case_message") == 3, "an update is an event, not a message"
        assert len(events(app, case["id"], "external_status_changed")) == 1


async def test_two_exports_imported_before_triage_make_one_case_and_one_update(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = backend_settings(connectors={"lapor": {"enabled": True}})
    later = later_export(tmp_path, r4513104="Selesai")
    assert (await run_cli(settings, "import", "lapor", str(EXPORT))).exit_code == 0
    assert (await run_cli(settings, "import", "lapor", str(later))).exit_code == 0
    async with running_pipeline(settings) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM raw_message WHERE state = 'triaged'") == 4)
        assert app.scalar("SELECT count(*) FROM cases") == 3
        [update] = events(app, case_of(app, "4513104")["id"], "external_status_changed")
        assert (update["before"]["status"], update["status"]) == ("Didisposisikan", "Selesai")


async def test_the_follow_ups_the_unit_wrote_are_listed_for_the_admin(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = backend_settings(connectors={"lapor": {"enabled": True}})
    async with running_pipeline(settings) as app:
        assert (await run_cli(settings, "import", "lapor", str(EXPORT))).exit_code == 0
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 3)
        case = case_of(app, "4512873")
        reply = await run_cli(settings, "cases", "reply", case["tracking_number"], "--text", "Sedang kami klarifikasi.")
        assert reply.exit_code == 0, reply.output
        await eventually(lambda: app.scalar("SELECT state FROM outbox WHERE channel = 'lapor'") == "dead")
        [row] = app.rows("SELECT error FROM outbox WHERE channel = 'lapor'")
        assert "post this follow-up on LAPOR! by hand" in row["error"], "never sent by email, nor called sent"
        text = await run_cli(settings, "lapor", "follow-ups", "--since", "2026-01-01")
        assert text.exit_code == 0, text.output
        assert f"== LAPOR! 4512873 (kami: {case['tracking_number']})" in text.stdout
        assert "Sedang kami klarifikasi." in text.stdout and "to post on LAPOR! by hand" in text.stdout
        sheet = tmp_path / "tindak-lanjut.csv"
        made = await run_cli(
            settings, "lapor", "follow-ups", "--since", "2026-01-01", "--format", "csv", "--output", str(sheet)
        )
        assert made.exit_code == 0, made.output
        [line] = list(csv.DictReader(sheet.open(encoding="utf-8", newline="")))
        assert line["lapor_tracking_id"] == "4512873" and "Sedang kami klarifikasi." in line["text"]
        as_json = await run_cli(settings, "lapor", "follow-ups", "--since", "2026-01-01", "--format", "json")
        [entry] = json.loads(as_json.stdout)
        assert datetime.fromisoformat(entry["written_at"]).utcoffset() == timedelta(hours=8), "ISO 8601, WITA"
        none = await run_cli(settings, "lapor", "follow-ups", "--since", "2099-01-01")
        assert "no follow-ups in this period" in none.stdout


async def test_a_lapor_case_never_waits_for_a_reporter_we_cannot_ask(backend_settings: SettingsFactory) -> None:
    """LAPOR! verified the report before forwarding it; its reporter is asked nothing here."""
    settings = backend_settings(connectors={"lapor": {"enabled": True}})
    async with running_pipeline(settings) as app:
        assert (await run_cli(settings, "import", "lapor", str(EXPORT))).exit_code == 0
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 3)
        assert {c["status"] for c in app.rows("SELECT status FROM cases")} == {"received"}
        assert app.scalar("SELECT count(*) FROM cases WHERE paused_at IS NOT NULL") == 0
