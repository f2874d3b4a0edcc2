"""The public report page, /pengaduan, as a browser without JavaScript uses it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from connectors.webform.tests.conftest import stored
from tests.support import Running, eventually

PAGE = "/pengaduan"
REPORT = {"name": "Rina", "email": "rina@example.id", "text": "Proyektor di ruang E-203 mati sejak kemarin."}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def hidden_reference(page: str) -> str:
    found = re.search(r'name="client_reference" value="([^"]+)"', page)
    assert found, "the form carries its own idempotency key"
    return found.group(1)


async def test_the_page_is_an_indonesian_form_that_needs_no_javascript(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.get(PAGE) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert '<html lang="id">' in page
    assert 'name="viewport"' in page, "laid out for a phone"
    assert "<script" not in page
    assert re.search(r'<form method="post" action="/pengaduan" enctype="multipart/form-data"', page)
    for name in ("name", "email", "phone", "kind", "subject", "text", "anonymous"):
        assert f'name="{name}"' in page
    assert 'type="file" multiple' in page
    assert "Kirim laporan" in page


async def test_a_report_from_the_page_shows_its_tracking_number(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.post(PAGE, data={**REPORT, "kind": "", "subject": ""}, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
            location = response.headers["Location"]
        assert location.startswith(f"{PAGE}/")
        report_id = location.rsplit("/", 1)[1]

        async def registered() -> str | None:
            async with http.get(location) as page:
                assert page.status == 200
                text = await page.text()
            assert report_id in text
            return text if "Laporan Anda terdaftar" in text else None

        page = await eventually(registered)
    [tracking] = [r["tracking_number"] for r in app.rows("SELECT tracking_number FROM cases")]
    assert tracking in page
    assert 'http-equiv="refresh"' not in page, "it stops refreshing once the number is there"
    assert 'href="/status"' in page


async def test_files_from_the_page_are_kept_and_an_empty_file_input_is_no_file(app: Running) -> None:
    form = aiohttp.FormData()
    for key, value in REPORT.items():
        form.add_field(key, value)
    form.add_field("lampiran", b"\x89PNG photo one", filename="satu.png", content_type="image/png")
    form.add_field("lampiran", b"%PDF-1.4 surat", filename="surat.pdf", content_type="application/pdf")
    form.add_field("lampiran_lain", b"", filename="", content_type="application/octet-stream")  # nothing chosen
    async with aiohttp.ClientSession(app.base_url) as http, http.post(PAGE, data=form) as response:
        assert response.status == 200  # the report's page, after the redirect
    await eventually(lambda: app.scalar("SELECT count(*) FROM attachment") == 2)
    names = [r["filename"] for r in app.rows("SELECT filename FROM attachment ORDER BY filename")]
    assert names == ["satu.png", "surat.pdf"]


async def test_problems_are_shown_again_in_the_form_in_indonesian(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.get(PAGE) as response:
            reference = hidden_reference(await response.text())
        wrong = {"name": "<b>Rina</b>", "email": "rina@", "text": " ", "client_reference": reference}
        async with http.post(PAGE, data=wrong) as response:
            assert response.status == 422
            page = await response.text()
    assert "bukan alamat email yang benar" in page
    assert re.search(r'id="text-error">wajib diisi<', page)
    assert 'value="&lt;b&gt;Rina&lt;/b&gt;"' in page, "what was typed comes back, escaped"
    assert 'value="rina@"' in page
    assert hidden_reference(page) == reference, "sending it again after fixing it is still one report"
    assert stored(app) == 0


async def test_a_report_without_any_contact_is_explained(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.post(PAGE, data={"text": "Tanpa kontak."}) as r:
        assert r.status == 422
        page = await r.text()
    assert re.search(r'id="email-error">isi alamat email atau nomor HP', page)
    assert stored(app) == 0


async def test_sending_the_same_form_twice_makes_one_report(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.get(PAGE) as response:
            form = {**REPORT, "client_reference": hidden_reference(await response.text())}
        locations = []
        for _ in range(2):
            async with http.post(PAGE, data=form, allow_redirects=False) as response:
                assert response.status == 303
                locations.append(response.headers["Location"])
    assert locations[0] == locations[1]
    assert stored(app) == 1


async def test_an_edited_form_sent_again_is_offered_as_a_new_report(app: Running) -> None:
    first = {**REPORT, "client_reference": "page-ref-1"}
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.post(PAGE, data=first, allow_redirects=False) as response:
            assert response.status == 303
        edited = {**first, "text": "Proyektor di ruang E-204 juga mati."}
        async with http.post(PAGE, data=edited, allow_redirects=False) as response:
            assert response.status == 409
            page = await response.text()
        assert "sudah pernah dikirim" in page
        assert "E-204" in page, "what was typed is kept"
        fresh = hidden_reference(page)
        assert fresh != "page-ref-1"
        async with http.post(PAGE, data={**edited, "client_reference": fresh}, allow_redirects=False) as response:
            assert response.status == 303
    assert stored(app) == 2


@pytest.mark.parametrize("chunked", [False, True], ids=["with Content-Length, as a browser sends", "chunked"])
async def test_a_body_over_the_limit_is_explained_on_a_page(app: Running, chunked: bool) -> None:
    """Refused before the form reads it (its Content-Length says it is too large) or while it is
    read (chunked): either way a page in Indonesian, not JSON."""
    boundary = "batas"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nFoto terlampir.\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="lampiran"; filename="besar.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + b"x" * (100 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    async def in_chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": BROWSER_ACCEPT}
    async with (
        aiohttp.ClientSession(app.base_url) as http,
        http.post(PAGE, data=in_chunks() if chunked else body, headers=headers) as response,
    ):
        assert response.status == 413
        assert response.content_type == "text/html"
        assert "Kiriman terlalu besar: paling banyak 64 KB" in await response.text()
    assert stored(app) == 0


async def test_an_api_client_over_the_limit_still_gets_json(app: Running) -> None:
    async with (
        aiohttp.ClientSession(app.base_url) as http,
        http.post(
            "/api/v1/reports", data=b"{" + b" " * (100 * 1024) + b"}", headers={"Content-Type": "application/json"}
        ) as response,
    ):
        assert response.status == 413
        assert (await response.json())["error"]["status"] == 413


async def test_a_plain_form_can_post_to_the_api_too(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", data=REPORT) as response:
        assert response.status == 202
        assert (await response.json())["duplicate"] is False
    [row] = app.rows("SELECT headers FROM raw_message")
    assert "application/x-www-form-urlencoded" in str(row["headers"]), "how it came is recorded"


async def test_an_unknown_report_page_is_404(app: Running) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.get(f"{PAGE}/1-0000") as response:
        assert response.status == 404
        assert "Laporan tidak ditemukan" in await response.text()
