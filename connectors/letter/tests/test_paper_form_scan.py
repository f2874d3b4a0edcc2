"""The paper complaint form (``/pengaduan/formulir.pdf``) comes back filled in as a letter: its
scan, a PDF or a photo, stays on the case and an officer views it in the console, whether the
letter was registered on the command line or in the console's own form."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp

from connectors.webform.paper_form import paper_form_pdf
from tests.console.support import Browser, console_app, logged_in
from tests.desk import run_cli
from tests.support import Running, SettingsFactory, running_pipeline

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00\x04scan of page two\xff\xd9"
"""A small JPEG as a phone's scanner app writes it (JFIF header, end of image)."""


def files_of(app: Running, tracking_number: str) -> dict[str, tuple[str, int, str]]:
    """The files kept on the case's messages: name -> (content type, size, sha256)."""
    rows = app.rows(
        "SELECT a.filename, a.content_type, a.size, a.sha256 FROM attachment a "
        "JOIN case_message m ON m.id = a.case_message_id JOIN cases c ON c.id = m.case_id "
        "WHERE c.tracking_number = :number",
        number=tracking_number,
    )
    return {r["filename"]: (r["content_type"], r["size"], r["sha256"]) for r in rows}


async def viewed(browser: Browser, tracking_number: str, filename: str) -> tuple[str, str, bytes]:
    """The file as the case page's "view" link shows it: its type, disposition and bytes."""
    async with browser.http.get(f"/console/cases/{tracking_number}") as response:
        assert response.status == 200
        page = await response.text()
    [item] = [li for li in page.split("<li>") if f'<span class="file">{filename}</span>' in li]
    link = re.search(r'<a href="(/console/attachments/a\d+)">', item)
    assert link, f"{filename} has a view link"
    async with browser.http.get(link.group(1)) as response:
        assert response.status == 200
        return response.content_type, response.headers["Content-Disposition"], await response.read()


async def test_a_scanned_paper_form_registered_as_a_letter_keeps_its_pdf_and_jpeg_on_the_case(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = backend_settings(connectors={"letter": {"enabled": True}})
    form = tmp_path / "formulir-pengaduan.pdf"
    form.write_bytes(paper_form_pdf())  # a scanner's PDF stands in: what matters is that it is one
    photo = tmp_path / "SCAN0002.JPG"  # scanners write the extension in capitals
    photo.write_bytes(JPEG)
    add = (
        "letter", "add", "--medium", "letter", "--agenda-number", "061/ULT/XII/2026", "--sender", "Rina Wulandari",
        "--dated", "2026-11-30", "--subject", "Formulir pengaduan",
        "--text", "Pungutan liar saat mengurus surat keterangan di loket kelurahan.",
        "--attach", str(form), "--attach", str(photo), "--format", "json",
    )  # fmt: skip
    async with console_app(settings) as app:
        result = await run_cli(settings, *add)
        assert result.exit_code == 0, result.output
        tracking = json.loads(result.stdout)["tracking_number"]
        files = files_of(app, tracking)
        assert files["formulir-pengaduan.pdf"][:2] == ("application/pdf", len(form.read_bytes()))
        assert files["SCAN0002.JPG"][:2] == ("image/jpeg", len(JPEG))
        assert f"tanda-terima-{tracking}.pdf" in files, "beside the receipt"
        assert len(files) == 3
        async with logged_in(app.base_url, "ult") as ult:
            kind, disposition, data = await viewed(ult, tracking, "formulir-pengaduan.pdf")
            assert (kind, data) == ("application/pdf", form.read_bytes())
            assert disposition.startswith("inline;"), "shown in the browser, not only downloaded"
            kind, disposition, data = await viewed(ult, tracking, "SCAN0002.JPG")
            assert (kind, data) == ("image/jpeg", JPEG) and disposition.startswith("inline;")


async def test_a_scan_uploaded_in_the_consoles_letter_form_stays_on_the_case(
    backend_settings: SettingsFactory,
) -> None:
    settings = backend_settings(connectors={"letter": {"enabled": True}})
    pdf = paper_form_pdf()
    async with console_app(settings) as app, logged_in(app.base_url, "ult") as ult:
        form = aiohttp.FormData()
        for name, value in {
            "_csrf": ult.csrf,
            "medium": "letter",
            "agenda_number": "062/ULT/XII/2026",
            "sender": "Anonim",
            "dated": "2026-11-30",
            "text": "Petugas parkir di depan kantor meminta uang tambahan.",
        }.items():
            form.add_field(name, value)
        form.add_field("attach", pdf, filename="formulir.pdf", content_type="application/pdf")
        form.add_field("attach", JPEG, filename="halaman-2.jpg", content_type="image/jpeg")
        async with ult.http.post("/console/register/letter", data=form) as response:
            page = await response.text()
            assert response.status == 200, page
        found = re.search(r'<p class="ticket"><a href="/console/cases/([^"]+)"', page)
        assert found, page
        tracking = found.group(1)
        files = files_of(app, tracking)
        assert files["formulir.pdf"][:2] == ("application/pdf", len(pdf))
        assert files["halaman-2.jpg"][:2] == ("image/jpeg", len(JPEG))
        assert (await viewed(ult, tracking, "formulir.pdf"))[::2] == ("application/pdf", pdf)
        assert (await viewed(ult, tracking, "halaman-2.jpg"))[::2] == ("image/jpeg", JPEG)


async def test_a_ticked_confidentiality_box_written_into_the_summary_makes_the_case_confidential(
    backend_settings: SettingsFactory,
) -> None:
    """The letter has no flag of its own for it: the officer's summary says so, and triage's
    anonymity rules read it, as they read a reporter's own words."""
    settings = backend_settings(connectors={"letter": {"enabled": True}})
    add = (
        "letter", "add", "--medium", "letter", "--agenda-number", "063/ULT/XII/2026", "--sender", "Rina Wulandari",
        "--dated", "2026-11-30", "--format", "json",
        "--text", "Pelapor meminta identitasnya dirahasiakan. Pungutan liar saat mengurus surat di kelurahan.",
    )  # fmt: skip
    async with running_pipeline(settings) as app:
        result = await run_cli(settings, *add)
        assert result.exit_code == 0, result.output
        [case] = app.rows("SELECT anonymous, confidential FROM cases")
        assert case["anonymous"] and case["confidential"]
