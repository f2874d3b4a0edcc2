"""The public status page, end to end: a report through /pengaduan becomes a case, and the reporter
finds its state and next deadline with the tracking number and the contact they gave; nobody
else learns anything, not even whether a number exists."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import text

from tests.support import Mailbox, Running, eventually, make_settings, running_pipeline, smtp_server
from triage.tracking import TrackingNumber

WITA = ZoneInfo("Asia/Makassar")
PAGE = "/pengaduan"
STATUS = "/status"
API = "/api/v1/status"
PHONE = "0812-3456-7890"
EMAIL = "Rina.Kartika@Example.ID"
REPORT = {"name": "Rina", "phone": PHONE, "text": "Proyektor di ruang E-203 mati sejak kemarin."}


@pytest.fixture
async def app(tmp_path: Path, either_database: dict[str, str]) -> AsyncIterator[Running]:
    settings = make_settings(tmp_path / "var", public={"status_lookup_burst": 100}, **either_database)
    async with running_pipeline(settings) as running:
        yield running


async def report_through_the_page(app: Running, data: aiohttp.FormData | dict[str, str]) -> str:
    """Submit on the public page as a browser would; the tracking number the page then shows."""
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.post(PAGE, data=data, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
            location = response.headers["Location"]

        async def ticket() -> str | None:
            async with http.get(location) as page:
                found = re.search(r'class="ticket">([^<]+)<', await page.text())
            return found.group(1) if found else None

        tracking: str = await eventually(ticket)
    return tracking


async def lookup_json(app: Running, tracking: str, contact: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(app.base_url) as http,
        http.get(API, params={"tracking": tracking, "contact": contact}) as response,
    ):
        return response.status, await response.read()


async def lookup_page(app: Running, tracking: str, contact: str, *, posted: bool = False) -> tuple[int, str]:
    fields = {"tracking": tracking, "contact": contact}
    async with aiohttp.ClientSession(app.base_url) as http:
        request = http.post(STATUS, data=fields) if posted else http.get(STATUS, params=fields)
        async with request as response:
            return response.status, await response.text()


def case_row(app: Running, tracking: str) -> dict[str, Any]:
    [row] = app.rows(
        "SELECT c.first_response_due, c.resolution_due, c.confidential, u.name AS unit_name"
        " FROM cases c JOIN unit u ON u.key = c.unit WHERE c.tracking_number = :t",
        t=tracking,
    )
    return row


def as_wita(value: Any) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.astimezone(WITA).isoformat()


async def test_a_form_encoded_report_is_found_by_its_tracking_number_and_phone(app: Running) -> None:
    tracking = await report_through_the_page(app, REPORT)
    row = case_row(app, tracking)
    # The phone as typed another way, the tracking number as read over the phone.
    spoken = tracking.lower().replace("-", " ")
    status, body = await lookup_json(app, spoken, "+62 812 3456 7890")
    assert status == 200, body
    answer = json.loads(body)
    assert answer["tracking_number"] == tracking
    assert answer["status"] == "received"
    assert answer["next_deadline"]["kind"] == "first_response"
    assert answer["next_deadline"]["due"] == as_wita(row["first_response_due"])
    assert answer["next_deadline"]["due"].endswith("+08:00"), "deadlines are told in WITA"
    assert answer["unit"] == row["unit_name"]

    status, page = await lookup_page(app, tracking, PHONE, posted=True)
    assert status == 200
    assert tracking in page and "WITA" in page
    assert answer["next_deadline"]["text"] in page
    assert row["unit_name"] in page


async def test_a_multipart_report_with_a_file_is_found_by_its_email(app: Running) -> None:
    form = aiohttp.FormData()
    report = {"email": EMAIL, "text": "Atap laboratorium gedung B bocor sejak kemarin, foto terlampir."}
    for key, value in report.items():
        form.add_field(key, value)
    form.add_field("lampiran", b"\x89PNG fake photo", filename="atap.png", content_type="image/png")
    tracking = await report_through_the_page(app, form)
    assert app.scalar("SELECT count(*) FROM attachment") == 1
    status, page = await lookup_page(app, tracking, EMAIL.lower())
    assert status == 200
    assert "menunggu verifikasi" in page


async def test_wrong_unknown_and_malformed_lookups_answer_exactly_alike(app: Running) -> None:
    tracking = await report_through_the_page(app, REPORT)
    real = TrackingNumber("ULT", int(tracking.split("-")[1]), 99_999)
    wrong_pairs = [
        (tracking, "0813-9999-0000"),  # a real number, someone else's phone
        (tracking, "orang.lain@example.id"),
        (str(real), PHONE),  # a well-formed number that no case has, the right phone
        (tracking[:-1] + str((int(tracking[-1]) + 1) % 10), PHONE),  # a check digit that fails
        ("bukan-nomor", PHONE),
        (tracking, "bukan kontak"),
        (tracking, "a\x00b@example.id"),
        ("x" * 5000, PHONE),
    ]
    json_answers = {await lookup_json(app, t, c) for t, c in wrong_pairs}
    assert len(json_answers) == 1, json_answers
    [(status, _)] = json_answers
    assert status == 404
    for posted in (False, True):
        page_answers = {await lookup_page(app, t, c, posted=posted) for t, c in wrong_pairs}
        assert len(page_answers) == 1
        assert next(iter(page_answers))[0] == 404


async def test_a_report_lacking_contents_says_it_waits_for_the_reporter(
    tmp_path: Path, either_database: dict[str, str]
) -> None:
    """The form's reporter gave an email and the receipt is mailed: they were asked, by email."""
    with smtp_server(Mailbox()) as port:
        smtp = {"host": "127.0.0.1", "port": port, "sender": "ult@example.ac.id"}
        async with running_pipeline(make_settings(tmp_path / "var", smtp=smtp, **either_database)) as app:
            tracking = await report_through_the_page(app, {**REPORT, "email": EMAIL, "text": "Atap bocor."})
            status, body = await lookup_json(app, tracking, PHONE)
    assert status == 200
    answer = json.loads(body)
    assert answer["status"] == "waiting_reporter" and "Menunggu keterangan dari Anda" in answer["status_text"]


async def test_a_report_lacking_contents_that_nobody_could_answer_runs_its_clock(app: Running) -> None:
    """A form's reporter without email cannot answer a question: nothing waits on them."""
    tracking = await report_through_the_page(app, {**REPORT, "text": "Atap bocor."})
    status, body = await lookup_json(app, tracking, PHONE)
    assert status == 200
    answer = json.loads(body)
    assert answer["status"] == "received" and "Menunggu keterangan" not in answer["status_text"]
    assert answer["next_deadline"]["kind"] == "first_response"


async def test_a_confidential_case_names_no_unit(app: Running) -> None:
    # Confidential is the content's (harassment), not the reporter's wish to be anonymous.
    disclosure = "Dosen di ruang E-203 melakukan pelecehan kepada saya kemarin."
    tracking = await report_through_the_page(app, {**REPORT, "text": disclosure})
    row = case_row(app, tracking)
    assert row["confidential"]
    status, body = await lookup_json(app, tracking, PHONE)
    assert status == 200
    answer = json.loads(body)
    assert answer["confidential"] is True
    assert "unit" not in answer and "kind" not in answer
    assert row["unit_name"].encode() not in body
    status, page = await lookup_page(app, tracking, PHONE)
    assert status == 200 and row["unit_name"] not in page
    assert "rahasia" in page


async def test_once_an_officer_acted_the_next_deadline_is_the_resolution(app: Running) -> None:
    tracking = await report_through_the_page(app, REPORT)
    with app.engine.begin() as connection:
        connection.execute(text("UPDATE cases SET status = 'in_progress' WHERE tracking_number = :t"), {"t": tracking})
    status, body = await lookup_json(app, tracking, PHONE)
    assert status == 200
    deadline = json.loads(body)["next_deadline"]
    assert deadline["kind"] == "resolution"
    assert deadline["due"] == as_wita(case_row(app, tracking)["resolution_due"])


async def test_a_lookup_without_both_fields_says_what_is_missing(app: Running) -> None:
    status, body = await lookup_json(app, "", PHONE)
    assert status == 400
    assert "contact" in json.loads(body)["error"]["reason"]
    async with aiohttp.ClientSession(app.base_url) as http, http.get(STATUS) as response:
        assert response.status == 200
        page = await response.text()
    assert 'lang="id"' in page and "<script" not in page
    assert 'name="tracking"' in page and 'name="contact"' in page


async def test_lookups_are_rate_limited_per_address(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "var", public={"status_lookup_burst": 3, "status_lookups_per_minute": 1, "forwarded_for": True}
    )
    async with running_pipeline(settings, ("http",)) as app, aiohttp.ClientSession(app.base_url) as http:

        async def lookup(path: str, address: str) -> aiohttp.ClientResponse:
            params = {"tracking": "ULT-26-00001-3", "contact": PHONE}
            async with http.get(path, params=params, headers={"X-Forwarded-For": address}) as response:
                await response.read()
                return response

        statuses = [(await lookup(path, "203.0.113.7")).status for path in (API, STATUS, API)]
        assert statuses == [404, 404, 404]
        for path in (API, STATUS):
            refused = await lookup(path, "203.0.113.7")
            assert refused.status == 429
            assert int(refused.headers["Retry-After"]) >= 1
        assert (await lookup(API, "198.51.100.20")).status == 404, "another address has its own bucket"
