"""The web form over HTTP against the real pipeline (SQLite + in-process queue)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.webform.tests.conftest import stored
from storage.blobs import BlobStore
from tests.support import Running, eventually

REPORTS = "/api/v1/reports"
VALID = {"email": "pelapor@example.id", "text": "Proyektor di ruang E-203 mati sejak kemarin."}


async def test_invalid_fields_get_422_with_a_message_per_field(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        body = {"email": "bukan-email", "phone": "0812 ABC", "kind": "keluhan", "text": ""}
        async with http.post(REPORTS, json=body) as response:
            assert response.status == 422
            answer = await response.json()
    assert set(answer["error"]["fields"]) == {"email", "phone", "kind", "text"}
    assert "email" in answer["error"]["fields"]["email"] or "address" in answer["error"]["fields"]["email"]
    assert stored(app) == 0


async def test_a_report_without_any_contact_is_refused(app: Running) -> None:
    async with (
        aiohttp.ClientSession(app.base_url) as http,
        http.post(REPORTS, json={"text": "Wifi asrama mati."}) as response,
    ):
        assert response.status == 422
        assert "email" in (await response.json())["error"]["fields"]
    assert stored(app) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{'text': 'single quotes'}", "application/json", 400),
        (b'["a", "list"]', "application/json", 422),
        (b"\xff\xfe garbage", "application/json", 400),
        (b"email=a%40b.id&text=%FF%FE", "application/x-www-form-urlencoded", 400),
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
        assert (await response.json())["error"]["reason"]
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


def blob_files(app: Running) -> list[Path]:
    root = app.settings.blob_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("phone", ["1234", "12", "0812 ABC", "+62 8"])
async def test_a_phone_number_that_cannot_be_dialled_is_refused(app: Running, phone: str) -> None:
    body = {"name": "Ani", "phone": phone, "text": "Lampu koridor gedung C mati."}
    async with aiohttp.ClientSession(app.base_url) as http, http.post(REPORTS, json=body) as response:
        assert response.status == 422
        answer = await response.json()
    assert answer["error"]["fields"] == {"phone": "not a valid phone number"}
    assert stored(app) == 0


async def test_local_and_international_numbers_are_accepted(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        for phone in ("0812-3456-7890", "+62 813 1111 2291", "(021) 555-1234", "+1 650 253 0000"):
            async with http.post(REPORTS, json={"phone": phone, "text": "Tes nomor."}) as response:
                assert response.status == 202, (phone, await response.text())
    assert stored(app) == 4


async def test_missing_contact_is_reported_with_the_other_field_errors(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.post(REPORTS, json={"email": " "}) as response:
        assert response.status == 422
        fields = (await response.json())["error"]["fields"]
    assert set(fields) == {"text", "email", "phone"}
    assert "email address or a phone number" in fields["email"] == fields["phone"]
    assert stored(app) == 0


async def test_a_refused_multipart_request_keeps_no_file(app: Running) -> None:
    form = aiohttp.FormData()
    form.add_field("phone", "abc")
    form.add_field("text", "Foto terlampir.")
    form.add_field("foto", b"\x89PNG fake image bytes", filename="foto.png", content_type="image/png")
    async with aiohttp.ClientSession(app.base_url) as http, http.post(REPORTS, data=form) as response:
        assert response.status == 422
        assert set((await response.json())["error"]["fields"]) == {"phone"}
    assert stored(app) == 0
    assert blob_files(app) == []


async def test_a_file_that_cannot_be_stored_leaves_no_report(app: Running) -> None:
    second = b"second file"
    digest = hashlib.sha256(second).hexdigest()
    app.settings.blob_dir.mkdir(parents=True, exist_ok=True)
    (app.settings.blob_dir / digest[:2]).write_bytes(b"")  # its shard cannot be made a folder
    form = aiohttp.FormData()
    form.add_field("email", "pelapor@example.id")
    form.add_field("text", "Dua lampiran.")
    form.add_field("a", b"first file", filename="a.txt")
    form.add_field("b", second, filename="b.txt")
    async with aiohttp.ClientSession(app.base_url) as http, http.post(REPORTS, data=form) as response:
        assert response.status == 503
        assert response.headers["Retry-After"]
        assert (await response.json())["error"]["reason"]
    assert stored(app) == 0
    assert not [p for p in blob_files(app) if p.name.startswith(".incoming-")], "no partly written file"


async def post_json(http: aiohttp.ClientSession, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    async with http.post(REPORTS, json=body) as response:
        return response.status, await response.json()


async def test_same_client_reference_with_another_body_is_a_conflict(app: Running) -> None:
    first = {**VALID, "client_reference": "app-ref-1"}
    async with aiohttp.ClientSession(app.base_url) as http:
        status, accepted = await post_json(http, first)
        assert status == 202 and accepted["duplicate"] is False
        status, answer = await post_json(http, {**first, "text": "Laporan yang lain sama sekali."})
        assert status == 409
        assert "client_reference" in answer["error"]["reason"]
        assert "id" not in answer, "another report's id is never handed out"
        # The same report again, keys reordered and padded: a retry, not a conflict.
        retry = {"client_reference": "app-ref-1", "text": f"  {VALID['text']} ", "email": VALID["email"]}
        status, again = await post_json(http, retry)
        assert status == 202 and again == {**accepted, "duplicate": True}
    assert stored(app) == 1


async def test_same_client_reference_with_other_files_is_a_conflict_and_keeps_nothing(app: Running) -> None:
    def form(photo: bytes) -> aiohttp.FormData:
        data = aiohttp.FormData()
        for key, value in {**VALID, "client_reference": "app-ref-2"}.items():
            data.add_field(key, value)
        data.add_field("foto", photo, filename="foto.png", content_type="image/png")
        return data

    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.post(REPORTS, data=form(b"photo one")) as response:
            assert response.status == 202
            accepted = await response.json()
        kept = blob_files(app)
        async with http.post(REPORTS, data=form(b"photo two")) as response:
            assert response.status == 409
        async with http.post(REPORTS, data=form(b"photo one")) as response:
            assert response.status == 202
            assert await response.json() == {**accepted, "duplicate": True}
    assert blob_files(app) == kept
    assert stored(app) == 1


async def test_concurrent_submissions_with_one_client_reference_make_one_report(app: Running) -> None:
    same = {**VALID, "client_reference": "app-ref-3"}
    other = {**same, "text": "Isi yang berbeda."}
    async with aiohttp.ClientSession(app.base_url) as http:
        answers = await asyncio.gather(*(post_json(http, same) for _ in range(8)))
        assert {status for status, _ in answers} == {202}
        assert len({str(body["id"]) for _, body in answers}) == 1
        assert [body["duplicate"] for _, body in answers].count(False) == 1
        mixed = await asyncio.gather(
            *(post_json(http, {**other, "client_reference": "app-ref-4"}) for _ in range(4)),
            *(post_json(http, {**same, "client_reference": "app-ref-4"}) for _ in range(4)),
        )
        statuses = sorted(status for status, _ in mixed)
        assert statuses == [202] * 4 + [409] * 4
    await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 2)
    assert stored(app) == 2
