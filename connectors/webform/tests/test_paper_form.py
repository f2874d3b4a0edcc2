"""The printable complaint form, /pengaduan/formulir.pdf: what it asks, where it says to bring
it, that it is the same file every time, and that it is never taken for a report's page."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import aiohttp
import pytest
from pypdf import PdfReader

from connectors.base import Ingest
from connectors.webform.ids import ReportIds
from connectors.webform.paper_form import DEFAULT_OFFICE, paper_form_pdf
from tests.support import Running, make_settings, running_pipeline

FORM = "/pengaduan/formulir.pdf"
PUBLIC_URL = "https://lapor.example.go.id/"
SECTIONS = (
    "A. Identitas pelapor",
    "B. Waktu dan tempat kejadian",
    "C. Uraian kejadian",
    "D. Pihak yang dilaporkan",
    "E. Bukti pendukung",
    "F. Pernyataan dan tanda tangan",
)


@pytest.fixture
async def public(tmp_path: Path) -> AsyncIterator[Running]:
    """The page as a unit serves it under its own public address."""
    settings = make_settings(tmp_path / "var", survey={"public_url": PUBLIC_URL})
    async with running_pipeline(settings, ("http",)) as running:
        yield running


def text_of(pdf: bytes) -> str:
    """The form's words, each run of whitespace one space (a line may wrap anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


async def download(app: Running, headers: dict[str, str] | None = None) -> tuple[aiohttp.ClientResponse, bytes]:
    async with aiohttp.ClientSession(app.base_url) as http, http.get(FORM, headers=headers) as response:
        return response, await response.read()


async def test_the_form_downloads_as_a_pdf_with_every_section_and_the_online_address(public: Running) -> None:
    response, pdf = await download(public)
    assert response.status == 200
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="formulir-pengaduan.pdf"'
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) in (1, 2)
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1), "A4"
    text = text_of(pdf)
    assert "FORMULIR PENGADUAN" in text and DEFAULT_OFFICE.upper() in text
    for section in SECTIONS:
        assert section in text
    for field in ("Nama lengkap", "NIK", "Alamat", "No. HP / WhatsApp", "Email", "Tanggal kejadian", "Jabatan"):
        assert field in text
    assert "Saya ingin identitas saya dirahasiakan" in text
    assert "anonim" in text and "tidak dapat memberi kabar" in text
    assert "Lampirkan salinan" in text
    assert "Tanda tangan pelapor" in text
    assert "https://lapor.example.go.id/pengaduan" in text, "the office's public address, for the online form"
    assert "Loket Pengaduan" in text and "lewat pos" in text and "nomor tiket" in text


async def test_the_form_is_the_same_bytes_every_time_and_a_cache_may_keep_it(public: Running) -> None:
    first, pdf = await download(public)
    again, same = await download(public)
    assert same == pdf
    assert paper_form_pdf(public_url=PUBLIC_URL) == paper_form_pdf(public_url=PUBLIC_URL) == pdf
    etag = first.headers["ETag"]
    assert again.headers["ETag"] == etag
    unchanged, body = await download(public, {"If-None-Match": etag})
    assert unchanged.status == 304 and body == b""


async def test_the_report_page_links_to_the_paper_form_without_a_script(public: Running) -> None:
    async with aiohttp.ClientSession(public.base_url) as http, http.get("/pengaduan") as response:
        page = await response.text()
    assert re.search(r'<a href="/pengaduan/formulir\.pdf"[^>]*>Unduh formulir pengaduan \(PDF\)</a>', page)
    assert "Lebih suka kertas?" in page and "kirim lewat pos" in page
    assert "<script" not in page


async def test_the_form_is_not_taken_for_a_report(public: Running) -> None:
    response, pdf = await download(public)
    assert response.status == 200 and pdf.startswith(b"%PDF-")
    async with aiohttp.ClientSession(public.base_url) as http:
        async with http.get("/pengaduan/formulir.pdf.html") as other:
            assert other.status == 404, "only the exact name is the form; the rest are report ids"
        async with http.head(FORM) as head:
            assert head.status == 200 and head.content_type == "application/pdf"
    ids = ReportIds("webform", cast("Ingest", object()), "a secret")  # a secret given: storage unused
    assert await ids.verify("formulir.pdf") is None, "a report id is <digits>-<signature>"
    assert re.fullmatch(r"\d+-[0-9a-f]+", await ids.sign(12)), "so no report id is ever the form's name"


def test_an_office_name_beyond_latin1_still_makes_the_form() -> None:
    office = "Unit Layanan Terpadu “Satu Pintu” — Kantor Wilayah Sulawesi Selatan dan Barat, Makassar"
    pdf = paper_form_pdf(office, "http://127.0.0.1:8080")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    text = text_of(pdf)
    assert '"Satu Pintu" - Kantor Wilayah' in text and "http://127.0.0.1:8080/pengaduan" in text
