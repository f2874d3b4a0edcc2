"""The web form over HTTP against the real pipeline (SQLite + in-process queue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from storage.blobs import BlobStore
from tests.support import Running, eventually, make_settings, running_pipeline

REPORTS = "/api/v1/reports"
VALID = {"email": "pelapor@example.id", "text": "Proyektor di ruang E-203 mati sejak kemarin."}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Running]:
    settings = make_settings(tmp_path / "var", http={"max_body_bytes": 64 * 1024})
    async with running_pipeline(settings) as running:
        yield running


def stored(app: Running) -> int:
    return int(app.scalar("SELECT count(*) FROM raw_message"))


async def test_invalid_fields_get_422_with_a_message_per_field(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        body = {"email": "bukan-email", "phone": "0812 ABC", "kind": "keluhan", "text": ""}
        async with http.post(REPORTS, json=body) as response:
            assert response.status == 422
            answer = await response.json()
    assert set(answer["fields"]) == {"email", "phone", "kind", "text"}
    assert "email" in answer["fields"]["email"] or "address" in answer["fields"]["email"]
    assert stored(app) == 0


async def test_a_report_without_any_contact_is_refused(app: Running) -> None:
    async with (
        aiohttp.ClientSession(app.base_url) as http,
        http.post(REPORTS, json={"text": "Wifi asrama mati."}) as response,
    ):
        assert response.status == 422
        assert "email" in (await response.json())["fields"]
    assert stored(app) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{'text': 'single quotes'}", "application/json", 400),
        (b'["a", "list"]', "application/json", 422),
        (b"\xff\xfe garbage", "application/json", 400),
        (b"text=halo", "application/x-www-form-urlencoded", 415),
        (b"halo", "text/plain", 415),
        (b'{"email": "a@b.id", "text": "' + b"x" * (70 * 1024) + b'"}', "application/json", 413),
    ],
)
async def test_bad_requests_get_a_clear_error_and_store_nothing(
    app: Running, body: bytes, content_type: str, status: int
) -> None:
    async with (
        aiohttp.ClientSession(app.base_url) as http,
        http.post(REPORTS, data=body, headers={"Content-Type": content_type}) as response,
    ):
        assert response.status == status
        assert (await response.json())["error"]
    assert stored(app) == 0


async def test_multipart_report_keeps_its_attachments(app: Running) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20
    form = aiohttp.FormData(quote_fields=False)  # as browsers send file names
    form.add_field("email", "pelapor@example.id")
    form.add_field("text", "Atap laboratorium kimia bocor, foto terlampir.")
    form.add_field("client_reference", "multi-1")
    form.add_field("foto", photo, filename="atap bocor.png", content_type="image/png")
    form.add_field("surat", b"%PDF-1.4 minimal", filename="surat.pdf", content_type="application/pdf")
    async with aiohttp.ClientSession(app.base_url) as http, http.post(REPORTS, data=form) as response:
        assert response.status == 202
    await eventually(lambda: app.scalar("SELECT count(*) FROM attachment") == 2)
    rows = app.rows("SELECT filename, content_type, size, sha256 FROM attachment ORDER BY filename")
    assert [r["filename"] for r in rows] == ["atap bocor.png", "surat.pdf"]
    blobs = BlobStore(app.settings.blob_dir)
    assert blobs.get(rows[0]["sha256"]) == photo and rows[0]["size"] == len(photo)


async def test_too_many_attachments_are_refused_before_anything_is_kept(app: Running) -> None:
    form = aiohttp.FormData()
    form.add_field("email", "pelapor@example.id")
    form.add_field("text", "banyak lampiran")
    for number in range(11):
        form.add_field(f"f{number}", f"file {number}".encode(), filename=f"{number}.txt")
    async with aiohttp.ClientSession(app.base_url) as http, http.post(REPORTS, data=form) as response:
        assert response.status == 422
    assert stored(app) == 0
    assert not app.settings.blob_dir.exists() or not any(app.settings.blob_dir.rglob("*"))


async def test_status_ids_cannot_be_guessed(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.post(REPORTS, json=VALID) as response:
            report_id = (await response.json())["id"]
        number, signature = report_id.split("-")
        for guess in (number, f"{number}-{'0' * len(signature)}", f"{int(number) + 1}-{signature}", "x-y"):
            async with http.get(f"{REPORTS}/{guess}") as response:
                assert response.status == 404
        async with http.get(f"{REPORTS}/{report_id}") as response:
            assert response.status == 200


async def test_idempotency_key_header_deduplicates_like_client_reference(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        ids = []
        for _ in range(2):
            async with http.post(REPORTS, json=VALID, headers={"Idempotency-Key": "hdr-1"}) as response:
                ids.append((await response.json())["id"])
    assert ids[0] == ids[1]
    assert stored(app) == 1


async def test_health_and_readiness(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.get("/healthz") as response:
            assert response.status == 200
        async with http.get("/readyz") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ready"
