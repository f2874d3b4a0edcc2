"""The console's pages as an officer uses them, over HTTP against a running satupintu: the inbox
with its filters and its unit scope, a case page with its thread, reporter and forms, an action
posted from a form, the language switch, the dashboard, attachments and the desk's registration.

The browser-driven tests (Chromium) are in ``tests/console/browser/``; these read the HTML the
server sends.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.console.browser.harness import body_of
from tests.console.support import add_officer, console_app, logged_in
from tests.support import Mailbox, Running, eventually, mail_through, make_settings, smtp_server

PROJECTOR = "Proyektor di ruang E-203 mati sejak kemarin, mohon diperbaiki."
HARASSMENT = "Dosen pembimbing saya melakukan pelecehan, tolong dirahasiakan."
TUITION = "Pembayaran UKT saya belum tercatat padahal sudah transfer minggu lalu."
TRACKING = re.compile(r'class="tracking" href="/console/cases/([^"]+)"')


async def report(app: Running, text: str, **fields: Any) -> str:
    """A report through the web form's API, as a reporter sends it; the tracking number of its case."""
    before = app.scalar("SELECT count(*) FROM cases")
    body = {"name": "Rina Wulandari", "email": "rina@example.id", "text": text, **fields}
    async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=body) as response:
        assert response.status == 202, await response.text()
    await eventually(lambda: app.scalar("SELECT count(*) FROM cases") > before)
    number: str = app.scalar("SELECT tracking_number FROM cases ORDER BY id DESC LIMIT 1")
    return number


async def get(browser: Any, path: str) -> tuple[int, str]:
    async with browser.http.get(path, allow_redirects=False) as response:
        return response.status, await response.text()


def main(html: str) -> str:
    """The page's content, without the layout around it (which names the page's own address)."""
    return html[html.index("<main") : html.index("</main>")]


def listed(html: str) -> list[str]:
    return TRACKING.findall(html)


@pytest.fixture
async def app(tmp_path: Path, either_database: dict[str, str]) -> AsyncIterator[Running]:
    async with console_app(make_settings(tmp_path / "var", **either_database)) as running:
        yield running


async def test_the_inbox_lists_the_officers_cases_by_deadline_and_filters_them(app: Running) -> None:
    projector, harassment, tuition = [await report(app, text) for text in (PROJECTOR, HARASSMENT, TUITION)]
    async with logged_in(app.base_url, "ult") as ult:
        status, html = await get(ult, "/console/inbox")
        assert status == 200 and '<html lang="id">' in html and "Kotak masuk" in html
        assert set(listed(html)) == {projector, harassment, tuition}
        assert "Rina Wulandari" in html  # an ordinary case's reporter is named in the list
        assert html.count("[dirahasiakan]") == 1  # the confidential one's is not, whoever looks

        _, found = await get(ult, "/console/inbox?q=proyektor")
        assert listed(found) == [projector]
        _, secret = await get(ult, "/console/inbox?confidential=1")
        assert listed(secret) == [harassment]
        _, by_unit = await get(ult, "/console/inbox?unit=keuangan")
        assert listed(by_unit) == [tuition]
        _, none_mine = await get(ult, "/console/inbox?mine=1")
        assert listed(none_mine) == [] and "Tidak ada laporan yang cocok." in none_mine

        for bad in ("?status=bogus", "?unit=nowhere", "?q=ab", "?kind=x", "?cursor=not-a-cursor"):
            status, page = await get(ult, f"/console/inbox{bad}")
            assert status == 400, (bad, status)
            assert 'role="alert"' in page and "Permintaan tidak valid" in page


async def test_a_unit_officer_sees_only_their_units_cases_and_another_units_case_is_not_found(
    app: Running,
) -> None:
    projector, tuition = await report(app, PROJECTOR), await report(app, TUITION)
    async with logged_in(app.base_url, "unit_sarpras") as unit:
        status, html = await get(unit, "/console/inbox")
        assert status == 200 and listed(html) == [projector]
        assert 'name="unit"' not in html  # no unit filter: their unit is all they see
        _, asked = await get(unit, "/console/inbox?unit=keuangan")
        assert tuition not in listed(asked)  # the filter cannot widen the scope
        status, other = await get(unit, f"/console/cases/{tuition}")
        status_missing, missing = await get(unit, "/console/cases/ULT-26-99999-0")
        assert status == status_missing == 404
        assert main(other) == main(missing) and "tidak ditemukan" in main(other)  # not "forbidden"
        async with unit.http.get("/console/attachments/a1") as response:
            assert response.status == 404  # the other unit's message's files neither


async def test_a_confidential_cases_reporter_is_masked_and_every_view_of_them_is_audited(app: Running) -> None:
    number = await report(app, HARASSMENT)
    async with logged_in(app.base_url, "ult") as ult:
        status, html = await get(ult, f"/console/cases/{number}")
    assert status == 200 and "Rahasia" in html
    assert "Rina Wulandari" not in html and "rina@example.id" not in html
    assert "[dirahasiakan]" in html and "dirahasiakan untuk peran Anda" in html
    assert app.scalar("SELECT count(*) FROM case_event WHERE action = 'reporter_revealed'") == 0

    async with logged_in(app.base_url, "admin") as admin:
        _, shown = await get(admin, f"/console/cases/{number}")
    assert "Rina Wulandari" in shown and "rina@example.id" in shown and "dicatat dalam jejak audit" in shown
    [seen] = app.rows("SELECT actor, detail FROM case_event WHERE action = 'reporter_revealed'")
    assert seen["actor"] == "admin"


async def test_a_case_page_shows_the_thread_deadlines_routing_and_the_forms_of_its_status(app: Running) -> None:
    number = await report(app, PROJECTOR)
    async with logged_in(app.base_url, "ult") as ult:
        status, html = await get(ult, f"/console/cases/{number}")
        assert status == 200
        assert PROJECTOR in html and "Laporan Anda telah kami terima" in html  # the receipt, outbound
        assert 'data-direction="in"' in html and 'data-direction="out"' in html
        assert "Tindak lanjut pertama" in html and "hari lagi" in html
        assert "Alasan penempatan" in html and "Jejak audit" in html
        assert 'action="/console/cases/' + number + '/actions/verify"' in html
        assert "/actions/resolve" not in html  # not in this status

        response = await ult.post(
            f"/console/cases/{number}/actions/verify", {"steps": "problem_identification", "note": "cek"}
        )
        assert response.status == 303 and response.headers["Location"].startswith(f"/console/cases/{number}")
        response.release()
        _, after = await get(ult, response.headers["Location"])
        assert "Tindakan tercatat." in after and 's-verifying">Diverifikasi' in after
        assert "/actions/forward" in after

        refused = await ult.post(f"/console/cases/{number}/actions/resolve", {"report": "selesai"})
        assert refused.status == 409
        page = await refused.text()
        assert "Tindakan ditolak" in page and 'id="refused"' in page
        empty = await ult.post(f"/console/cases/{number}/actions/reply", {"text": "  "})
        assert empty.status == 422
        empty.release()
        unknown = await ult.post(f"/console/cases/{number}/actions/explode", {})
        assert unknown.status == 404
        unknown.release()
        garbage = await ult.http.post(
            f"/console/cases/{number}/actions/reply",
            data=b"text=\xff\xfe",
            headers={"Content-Type": "application/x-www-form-urlencoded", **ult.headers()},
        )
        assert garbage.status == 400
        garbage.release()
        async with ult.http.get(f"/console/cases/{number.lower()}", allow_redirects=False) as typed:
            assert typed.status == 303 and typed.headers["Location"] == f"/console/cases/{number}"
    assert app.scalar("SELECT actor FROM case_event WHERE action = 'verifying'") == "ult"


async def test_an_auditor_reads_everything_and_can_do_nothing(app: Running) -> None:
    number = await report(app, PROJECTOR)
    async with logged_in(app.base_url, "auditor") as auditor:
        _, html = await get(auditor, f"/console/cases/{number}")
        assert "Peran Anda hanya dapat membaca." in html and "/actions/" not in html
        assert "/console/register/walkin" not in html
        refused = await auditor.post(f"/console/cases/{number}/actions/verify", {})
        assert refused.status == 403
        refused.release()
        status, _ = await get(auditor, "/console/register/walkin")
        assert status == 403
    assert app.scalar("SELECT status FROM cases") == "received"


async def test_forwarding_moves_a_case_from_one_units_inbox_to_the_others(app: Running) -> None:
    number = await report(app, PROJECTOR)
    await add_officer(app.engine, "unit_keuangan", "unit", "keuangan")
    async with logged_in(app.base_url, "ult") as ult:
        for action, fields in (("verify", {}), ("forward", {"unit": "keuangan", "note": "soal biaya"})):
            response = await ult.post(f"/console/cases/{number}/actions/{action}", fields)
            assert response.status == 303, await response.text()
            response.release()
    async with logged_in(app.base_url, "unit_sarpras") as sarpras:
        _, html = await get(sarpras, "/console/inbox")
        assert listed(html) == []
    async with logged_in(app.base_url, "unit_keuangan") as keuangan:
        _, html = await get(keuangan, "/console/inbox")
        assert listed(html) == [number]
        _, case = await get(keuangan, f"/console/cases/{number}")
        assert '<option value="unit_keuangan"' in case  # can be assigned to the unit's officer
        response = await keuangan.post(f"/console/cases/{number}/actions/assign", {"officer": "", "mine": "1"})
        assert response.status == 303
        response.release()
        _, mine = await get(keuangan, "/console/inbox?mine=1")
        assert listed(mine) == [number]


async def test_the_language_switch_gives_english_pages_and_remembers_it(app: Running) -> None:
    number = await report(app, PROJECTOR)
    async with logged_in(app.base_url, "ult") as ult:
        async with ult.http.get(f"/console/lang?to=en&next=/console/cases/{number}", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == f"/console/cases/{number}"
        _, html = await get(ult, f"/console/cases/{number}")
        assert '<html lang="en">' in html and "Thread" in html and "Audit trail" in html
        _, inbox = await get(ult, "/console/inbox")
        assert "Inbox" in inbox and "Kotak masuk" not in inbox
        async with ult.http.get("/console/lang?to=en&next=https://evil.example/", allow_redirects=False) as r:
            assert r.headers["Location"] == "/console/"


async def test_the_dashboard_counts_open_cases_and_shows_channel_health(app: Running) -> None:
    await report(app, PROJECTOR)
    await report(app, TUITION)
    async with logged_in(app.base_url, "ult") as ult:
        status, html = await get(ult, "/console/dashboard")
    assert status == 200
    assert "Laporan terbuka per unit" in html and "Bagian Sarana dan Prasarana" in html
    assert "Kesehatan kanal" in html and 'data-channel="webform"' in html
    assert "Indeks Kepuasan Masyarakat" in html


async def test_a_walk_in_registered_on_the_form_becomes_a_case_with_its_receipt(tmp_path: Path) -> None:
    connectors = {"webform": {}, "walkin": {"enabled": True}}
    async with (
        console_app(make_settings(tmp_path / "var", connectors=connectors)) as app,
        logged_in(app.base_url, "ult") as ult,
    ):
        status, html = await get(ult, "/console/register/walkin")
        assert status == 200 and 'name="queue_number"' in html
        form = aiohttp.FormData()
        for name, value in {
            "_csrf": ult.csrf,
            "queue_number": "A012",
            "name": "Budi Santoso",
            "text": "AC di ruang baca perpustakaan mati sejak pekan lalu.",
        }.items():
            form.add_field(name, value)
        form.add_field("attach", b"\x89PNG\r\n\x1a\nfoto", filename="foto.png", content_type="image/png")
        async with ult.http.post("/console/register/walkin", data=form) as response:
            page = await response.text()
            assert response.status == 200, page
        found = re.search(r'<p class="ticket"><a href="/console/cases/([^"]+)"', page)
        assert found, page
        number = found.group(1)
        assert "cetak dan serahkan tanda terimanya" in page  # no phone or email: in person only
        receipt = re.search(r'href="(/console/attachments/a\d+)\?download=1"', page)
        assert receipt, "a link to the printed receipt"
        async with ult.http.get(receipt.group(1) + "?download=1") as response:
            assert response.status == 200 and (await response.read()).startswith(b"%PDF")
            assert response.headers["Content-Disposition"].startswith("attachment;")
        _, case = await get(ult, f"/console/cases/{number}")
        assert "foto.png" in case and "Kunjungan langsung" in case
        photo = re.search(r'href="(/console/attachments/a\d+)">Lihat', case)
        assert photo
        async with ult.http.get(photo.group(1)) as response:
            assert response.headers["Content-Type"] == "image/png"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Disposition"].startswith("inline;")

        bad = aiohttp.FormData({"_csrf": ult.csrf, "queue_number": "??", "text": ""})
        async with ult.http.post("/console/register/walkin", data=bad) as response:
            assert response.status == 422
            assert "nomor antrian tidak valid" in await response.text()


async def test_a_reply_from_the_case_page_is_delivered_to_the_reporters_mailbox(tmp_path: Path) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        settings = make_settings(tmp_path / "var", connectors=mail_through(port))
        async with console_app(settings) as app:
            number = await report(app, PROJECTOR)
            await eventually(lambda: len(mailbox.received) == 1)  # the receipt
            async with logged_in(app.base_url, "ult") as ult:
                response = await ult.post(
                    f"/console/cases/{number}/actions/reply", {"text": "Teknisi kami datang besok pagi."}
                )
                assert response.status == 303, await response.text()
                response.release()
                await eventually(lambda: len(mailbox.received) == 2)
                reply = mailbox.received[1]
                assert reply["To"] == "rina@example.id" and number in reply["Subject"]
                assert "Teknisi kami datang besok pagi." in body_of(reply)

                async def delivered() -> bool:
                    _, html = await get(ult, f"/console/cases/{number}")
                    return html.count('data-delivery="sent"') == 2

                await eventually(delivered)


async def test_a_suggested_identity_link_is_confirmed_or_dismissed_from_the_case_page(app: Running) -> None:
    suggestion = re.compile(r'action="(/console/cases/[^/]+/identities/\d+)/confirm"')
    budi = {"name": "Budi Santoso", "email": "budi@example.id"}
    first, _ = await report(app, PROJECTOR), await report(app, "Lampu di lorong gedung B mati sejak Senin.")
    third, _ = await report(app, TUITION, **budi), await report(app, "Wifi asrama putus sejak kemarin.", **budi)
    async with logged_in(app.base_url, "ult") as ult:
        _, page = await get(ult, f"/console/cases/{first}")
        found = suggestion.search(page)
        assert found and "Usulan penggabungan identitas" in page
        async with logged_in(app.base_url, "auditor") as auditor:
            refused = await auditor.post(found.group(1) + "/confirm")
            assert refused.status == 403
            refused.release()
        async with logged_in(app.base_url, "unit_ppkpt") as other_unit:
            refused = await other_unit.post(found.group(1) + "/confirm")
            assert refused.status == 404
            refused.release()
        response = await ult.post(found.group(1) + "/confirm")
        assert response.status == 303
        response.release()
        _, after = await get(ult, f"/console/cases/{first}")
        assert suggestion.search(after) is None  # one person now: no longer a suggestion

        _, page = await get(ult, f"/console/cases/{third}")
        found = suggestion.search(page)
        assert found
        response = await ult.post(found.group(1) + "/reject")
        assert response.status == 303
        response.release()
        _, after = await get(ult, f"/console/cases/{third}")
        assert suggestion.search(after) is None  # dismissed, and not linked
    assert app.scalar("SELECT count(*) FROM reporter_link WHERE removed_at IS NULL") == 1
    assert app.scalar("SELECT actor FROM case_event WHERE action = 'identity_linked'") == "ult"
    assert app.scalar("SELECT count(*) FROM case_event WHERE action = 'identity_link_dismissed'") == 1


async def test_a_letter_registered_on_the_form_becomes_a_case_and_a_bad_date_is_refused(tmp_path: Path) -> None:
    connectors = {"webform": {}, "letter": {"enabled": True}}
    async with (
        console_app(make_settings(tmp_path / "var", connectors=connectors)) as app,
        logged_in(app.base_url, "ult") as ult,
    ):
        status, _ = await get(ult, "/console/register/walkin")
        assert status == 404  # the walk-in channel is not enabled here
        letter = {
            "medium": "letter",
            "agenda_number": "045/UN/2026",
            "sender": "BEM Fakultas Teknik",
            "dated": "2026-11-30",
            "subject": "Permohonan perbaikan lampu parkiran",
            "text": "Lampu parkiran gedung C mati sejak sepekan, mohon diperbaiki demi keamanan mahasiswa.",
        }
        refused = await ult.post("/console/register/letter", {**letter, "dated": "30/11/2026"})
        assert refused.status == 422 and "tanggal tidak valid" in await refused.text()
        response = await ult.post("/console/register/letter", letter)
        page = await response.text()
        assert response.status == 200, page
        found = re.search(r'<p class="ticket"><a href="/console/cases/([^"]+)"', page)
        assert found
        again = await ult.post("/console/register/letter", {**letter, "sender": "Orang lain"})
        assert again.status == 409 and "sudah dipakai" in await again.text()
        assert app.scalar("SELECT channel FROM cases WHERE tracking_number = :t", t=found.group(1)) == "letter"


async def test_a_case_merged_from_its_page_can_be_unmerged_from_the_merged_ones(app: Running) -> None:
    target = await report(app, PROJECTOR)
    source = await report(app, "Proyektor E-203 masih mati, sudah dua hari.", name="Rina W")
    async with logged_in(app.base_url, "ult") as ult:
        response = await ult.post(f"/console/cases/{source}/actions/merge", {"into": target.lower(), "reason": "sama"})
        assert response.status == 303, await response.text()
        response.release()
        _, merged = await get(ult, f"/console/cases/{source}")
        assert "/actions/unmerge" in merged and "/actions/reply" not in merged
        _, kept = await get(ult, f"/console/cases/{target}")
        assert "Proyektor E-203 masih mati" in kept  # its messages moved over
        response = await ult.post(f"/console/cases/{source}/actions/unmerge", {})
        assert response.status == 303
        response.release()
        _, back = await get(ult, f"/console/cases/{source}")
        assert "/actions/unmerge" not in back and "/actions/reply" in back


async def test_messages_split_off_from_the_case_page_make_a_new_case_that_can_be_put_back(app: Running) -> None:
    target = await report(app, PROJECTOR)
    other = await report(app, "Lampu di lorong gedung B mati sejak Senin.", name="Rina W")
    async with logged_in(app.base_url, "ult") as ult:
        response = await ult.post(f"/console/cases/{other}/actions/merge", {"into": target})
        assert response.status == 303
        response.release()
        _, page = await get(ult, f"/console/cases/{target}")
        messages = re.findall(r'name="messages" value="(\d+)"', page)
        assert len(messages) == 2  # its own and the merged one's
        response = await ult.post(
            f"/console/cases/{target}/actions/split", {"messages": messages[-1], "reason": "beda"}
        )
        assert response.status == 303
        response.release()
        made = response.headers["Location"].split("?")[0].rsplit("/", 1)[1]
        assert made not in (target, other)
        _, new_case = await get(ult, f"/console/cases/{made}")
        assert "Lampu di lorong gedung B" in new_case and "/actions/unsplit" in new_case
        response = await ult.post(f"/console/cases/{made}/actions/unsplit", {})
        assert response.status == 303
        response.release()
        _, back = await get(ult, f"/console/cases/{target}")
        assert "Lampu di lorong gedung B" in back
