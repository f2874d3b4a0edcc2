"""The walk-in desk's queue in the console, over HTTP against a running satupintu: a number taken
at the door with its ticket, a counter's buttons, the waiting room's feed without a login, and a
visit that becomes a case showing its queue number (or is answered and closed at the counter)."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pypdf import PdfReader

from tests.console.support import Browser, console_app, logged_in
from tests.support import Running, eventually, make_settings

VISIT = "Saya ingin menanyakan syarat legalisir ijazah untuk alumni."


@pytest.fixture
async def app(tmp_path: Path, either_database: dict[str, str]) -> AsyncIterator[Running]:
    connectors = {"webform": {}, "walkin": {"enabled": True}}
    async with console_app(make_settings(tmp_path / "var", connectors=connectors, **either_database)) as running:
        yield running


async def step(browser: Browser, path: str, **fields: str) -> tuple[int, str]:
    """A counter's button: the status and what the page it leads to says was done (or the refusal)."""
    response = await browser.post(path, fields)
    async with response:
        if response.status != 303:
            return response.status, await response.text()
        location = response.headers["Location"]
    if "done=" not in location:
        return 303, location
    async with browser.http.get(location) as page:
        done = re.search(r'id="queue-done">([^<]*)</p>', await page.text())
    return 303, done.group(1) if done else ""


async def test_a_number_taken_at_the_door_is_called_at_the_counter_and_shown_in_the_waiting_room(
    app: Running,
) -> None:
    async with logged_in(app.base_url, "ult") as ult:
        async with ult.http.get("/console/queue") as response:
            door = await response.text()
            assert response.status == 200 and 'id="take-pengaduan"' in door and "Loket Informasi" in door
        for expected in ("A001", "A002"):
            response = await ult.post("/console/queue/pengaduan/take")
            async with response:
                assert response.status == 303 and response.headers["Location"] == f"/console/queue?taken={expected}"
        async with ult.http.get("/console/queue?taken=A002") as response:
            taken = await response.text()
        assert '<p class="queue-number" id="taken-number">A002</p>' in taken
        ticket = re.search(r'href="(/console/queue/pengaduan/tickets/A002\.pdf)"', taken)
        assert ticket
        async with ult.http.get(ticket.group(1)) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            text = PdfReader(io.BytesIO(await response.read())).pages[0].extract_text()
        assert "A002" in text and "Loket Pengaduan" in text and "1 nomor menunggu sebelum Anda" in text

        async with aiohttp.ClientSession(app.base_url) as stranger:  # the display's screen: no login
            async with stranger.get("/console/queue/display.json") as response:
                assert response.status == 200
                feed = await response.json()
            async with stranger.get("/console/queue/display") as response:
                assert response.status == 200 and 'data-counter="pengaduan"' in await response.text()
            page = {"Accept": "text/html"}
            async with stranger.get("/console/queue/pengaduan", headers=page, allow_redirects=False) as response:
                assert response.status == 303  # a counter's page is the officers'
            async with stranger.post("/console/queue/pengaduan/call", allow_redirects=False) as response:
                assert response.status == 401
        first = feed["counters"][0]
        assert (first["key"], first["current"], first["waiting"]) == ("pengaduan", None, 2)
        assert first["next"] == ["A001", "A002"]

        said = [await step(ult, "/console/queue/pengaduan/call") for _ in range(3)]
        assert [s[0] for s in said] == [303, 303, 303]
        assert said[2][1] == "A001 dipanggil (panggilan ke-3)."
        async with ult.http.get("/console/queue/display.json") as response:
            called = (await response.json())["counters"][0]
        assert called["current"] == "A001" and called["sequence"] == 3 and called["call"] == 3
        assert called["announcement"] == "Nomor antrian A satu, silakan ke Loket Pengaduan"
        status, refused = await step(ult, "/console/queue/pengaduan/again")
        assert status == 409 and "sudah dipanggil 3 kali" in refused

        _, fourth = await step(ult, "/console/queue/pengaduan/call")
        assert fourth == "A001 tidak hadir setelah tiga panggilan; A002 dipanggil."
        _, back = await step(ult, "/console/queue/pengaduan/returned", number="A001")
        assert back == "A001 kembali ke antrian, urutan ke-1."
        _, served = await step(ult, "/console/queue/pengaduan/served", number="A002")
        assert served == "A002 selesai dilayani."
        crafted = "/console/queue/pengaduan?done=served&number=Telepon+0812+sekarang"
        async with ult.http.get(crafted) as response:
            assert 'id="queue-done"' not in await response.text()  # a link cannot put words on the page
        async with ult.http.get("/console/queue/pengaduan") as response:
            counter = await response.text()
        assert 'id="q-call"' in counter and "1 menunggu" in counter and "1 selesai dilayani" in counter

        async with ult.http.get("/console/dashboard") as response:
            board = await response.text()
        assert 'id="queue-figures"' in board and "2 pengunjung · 1 dilayani · 0 tidak hadir" in board


async def test_an_auditor_sees_the_counter_but_cannot_call(app: Running) -> None:
    async with logged_in(app.base_url, "auditor") as auditor:
        async with auditor.http.get("/console/queue/pengaduan") as response:
            page = await response.text()
            assert response.status == 200 and 'id="q-call"' not in page
        status, _ = await step(auditor, "/console/queue/pengaduan/take")
        assert status == 403
        async with auditor.http.get("/console/queue/kasir") as response:
            assert response.status == 404


async def test_a_visit_registered_with_its_queue_number_shows_the_number_counter_and_wait_on_its_case(
    app: Running,
) -> None:
    async with logged_in(app.base_url, "ult") as ult:
        await step(ult, "/console/queue/informasi/take")
        await step(ult, "/console/queue/informasi/call")
        async with ult.http.get("/console/queue/informasi") as response:
            counter = await response.text()
        assert 'href="/console/register/walkin?queue_number=B001"' in counter
        async with ult.http.get("/console/register/walkin?queue_number=B001") as response:
            assert 'value="B001"' in await response.text()

        answer = "Bawa ijazah asli dan fotokopi."
        form = {"queue_number": "B001", "name": "Sari Dewi", "text": VISIT, "answered": answer}
        response = await ult.post("/console/register/walkin", form)
        async with response:
            registered = await response.text()
            assert response.status == 200, registered
        number = re.search(r'<p class="ticket"><a href="/console/cases/([^"]+)"', registered)
        assert number and 'id="answered-result">Dijawab di loket dan ditutup.' in registered
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases WHERE status = 'closed'") == 1)
        async with ult.http.get(f"/console/cases/{number.group(1)}") as response:
            case = await response.text()
        assert re.search(r'<dd class="queue-visit">B001, Loket Informasi, menunggu \d+ menit</dd>', case)
        assert "dijawab di loket" in case and "Bawa ijazah asli" in case
        async with ult.http.get(f"/api/v1/cases/{number.group(1)}") as response:
            [visit] = (await response.json())["queue_visits"]
        assert (visit["number"], visit["counter"], visit["day"]) == ("B001", "informasi", visit["day"])
        assert visit["waited"] >= 0

        response = await ult.post("/console/register/walkin", {"queue_number": "B009", "text": "Lampu lorong mati."})
        async with response:
            assert response.status == 200
            second = re.search(r'<p class="ticket"><a href="/console/cases/([^"]+)"', await response.text())
        assert second
        async with ult.http.get(f"/console/cases/{second.group(1)}") as response:
            # a number written by hand while the queue was not used: shown, without a wait
            assert '<dd class="queue-visit">B009</dd>' in await response.text()
