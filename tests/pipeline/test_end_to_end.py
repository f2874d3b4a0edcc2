"""A report submitted over HTTP becomes one case, routed, with deadlines and exactly one receipt."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp

from tests.support import SettingsFactory, eventually, running_pipeline
from triage.calendar import WorkingCalendar
from triage.tracking import parse_tracking_number

UKT_REPORT = {
    "name": "Rina Kartika",
    "email": "Rina.Kartika@Student.ITK.ac.id",
    "phone": "0812-3456-7890",
    "subject": "UKT belum terverifikasi",
    "text": "Selamat siang, saya sudah membayar UKT semester ini lewat virtual account tanggal 3, "
    "tapi status pembayaran di SIAKAD masih belum lunas. Mohon dicek, terima kasih.",
}


async def test_report_becomes_case_with_one_receipt(backend_settings: SettingsFactory) -> None:
    settings = backend_settings()
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        before = datetime.now(UTC)
        async with http.post("/api/v1/reports", json=UKT_REPORT) as response:
            assert response.status == 202
            accepted = await response.json()

        async def registered() -> dict[str, object] | None:
            async with http.get(accepted["status_url"]) as status_response:
                body = await status_response.json()
            return body if body["receipt"] else None

        status = await eventually(registered)
        await eventually(lambda: app.scalar("SELECT state FROM outbox") == "sent")

        tracking = parse_tracking_number(status["tracking_number"])
        assert tracking is not None and tracking.prefix == "ULT"
        assert status["status"] == "registered"
        assert status["tracking_number"] in status["receipt"]["text"]

        [case] = app.rows("SELECT * FROM cases")
        assert case["tracking_number"] == status["tracking_number"]
        assert case["kind"] == "pengaduan"
        assert case["unit"] == "keuangan"
        assert case["routing_rules"]  # officers see why it went there

        calendar = WorkingCalendar(ZoneInfo("Asia/Makassar"), settings.office.closes)
        assert _utc(case["first_response_due"]) == calendar.deadline(before, 2)
        assert _utc(case["resolution_due"]) == calendar.deadline(before, 5)

        [receipt] = app.rows("SELECT * FROM outbox")
        assert receipt["purpose"] == "receipt" and receipt["state"] == "sent"
        assert receipt["provider_message_id"]
        assert "Nomor tiket: " + case["tracking_number"] in receipt["body"]

        [reporter] = app.rows("SELECT kind, value FROM reporter_identity WHERE kind = 'phone'")
        assert reporter["value"] == "+6281234567890"
        emails = app.rows("SELECT value FROM reporter_identity WHERE kind = 'email'")
        assert emails == [{"value": "rina.kartika@student.itk.ac.id"}]

        actions = [r["action"] for r in app.rows("SELECT action FROM case_event ORDER BY id")]
        assert actions == ["created", "receipt_sent"]


async def test_same_client_reference_twice_makes_one_case(backend_settings: SettingsFactory) -> None:
    settings = backend_settings()
    report = {**UKT_REPORT, "client_reference": "app-7f3a-0001"}
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        answers = []
        for _ in range(3):
            async with http.post("/api/v1/reports", json=report) as response:
                assert response.status == 202
                answers.append(await response.json())
        assert len({a["id"] for a in answers}) == 1
        assert [a["duplicate"] for a in answers] == [False, True, True]

        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)
        await _settle()
        assert app.scalar("SELECT count(*) FROM raw_message") == 1
        assert app.scalar("SELECT count(*) FROM cases") == 1
        assert app.scalar("SELECT count(*) FROM outbox") == 1


async def test_reports_from_many_clients_get_distinct_sequential_numbers(backend_settings: SettingsFactory) -> None:
    settings = backend_settings()
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:

        async def submit(number: int) -> int:
            body = {**UKT_REPORT, "client_reference": f"burst-{number}", "email": f"m{number}@example.id"}
            async with http.post("/api/v1/reports", json=body) as response:
                return response.status

        statuses = await asyncio.gather(*(submit(n) for n in range(60)))
        assert set(statuses) == {202}
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 60)
        numbers = [r["tracking_number"] for r in app.rows("SELECT tracking_number FROM cases")]
        parsed = sorted(t.sequence for t in map(parse_tracking_number, numbers) if t is not None)
        assert parsed == list(range(1, 61))


async def _settle() -> None:
    await asyncio.sleep(1.0)  # give a wrongly duplicated work item the time to show up


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite through text() returns strings
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
