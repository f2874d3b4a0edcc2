"""Bytes a browser would never send, and a few it might: each is a 4xx with a reason and leaves
nothing behind, or, for control characters in a file's name, is cleaned before it is stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest

from tests.support import Running, eventually, make_settings, running_pipeline

REPORTS = "/api/v1/reports"
BOUNDARY = "satupintu-test-boundary"
EMAIL_PART = (b'Content-Disposition: form-data; name="email"', b"pelapor@example.id")
TEXT_PART = (b'Content-Disposition: form-data; name="text"', b"Lampu koridor gedung C mati.")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Running]:
    async with running_pipeline(make_settings(tmp_path / "var")) as running:
        yield running


def multipart(*parts: tuple[bytes, bytes]) -> bytes:
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts)
    return body + b"--" + BOUNDARY.encode() + b"--\r\n"


def file_part(disposition: bytes, data: bytes = b"\x89PNG fake") -> tuple[bytes, bytes]:
    return b'Content-Disposition: form-data; name="foto"; ' + disposition + b"\r\nContent-Type: image/png", data


async def post_multipart(app: Running, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    async with aiohttp.ClientSession(app.base_url) as http, http.post(REPORTS, data=body, headers=headers) as response:
        return response.status, await response.json()


async def raw_request(app: Running, head: bytes, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """One request written byte for byte (a client library would refuse to send these headers)."""
    url = urlsplit(app.base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(head + b"\r\nHost: test\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), orjson.loads(rest.partition(b"\r\n\r\n")[2])


def nothing_stored(app: Running) -> bool:
    root = app.settings.blob_dir
    no_files = not root.exists() or not any(p.is_file() for p in root.rglob("*"))
    return app.scalar("SELECT count(*) FROM raw_message") == 0 and no_files


async def test_a_multipart_field_that_is_not_utf8_is_400(app: Running) -> None:
    text = (TEXT_PART[0], b"Lampu koridor \xff\xfe mati")
    status, answer = await post_multipart(app, multipart(EMAIL_PART, text, file_part(b'filename="a.png"')))
    assert status == 400
    assert "UTF-8" in answer["error"]["reason"]
    assert nothing_stored(app)


async def test_a_file_name_that_is_not_utf8_is_400(app: Running) -> None:
    status, answer = await post_multipart(app, multipart(EMAIL_PART, TEXT_PART, file_part(b'filename="foto\xff.png"')))
    assert status == 400
    assert "file" in answer["error"]["reason"] and "UTF-8" in answer["error"]["reason"]
    assert nothing_stored(app)


async def test_a_nul_byte_in_a_part_header_is_400(app: Running) -> None:
    status, answer = await post_multipart(app, multipart(EMAIL_PART, TEXT_PART, file_part(b'filename="a\x00b.png"')))
    assert status == 400
    assert answer["error"]["reason"]
    assert nothing_stored(app)


@pytest.mark.parametrize("key", [b"kunci-\xc3\xa9", b"\xff\xfe", b"x" * 201, b"dua kata"])
async def test_an_idempotency_key_that_is_not_printable_ascii_is_400(app: Running, key: bytes) -> None:
    body = orjson.dumps({"email": "pelapor@example.id", "text": "Wifi asrama mati."})
    head = b"POST " + REPORTS.encode() + b" HTTP/1.1\r\nContent-Type: application/json\r\nIdempotency-Key: " + key
    status, answer = await raw_request(app, head, body)
    assert status == 400
    assert "Idempotency-Key" in answer["error"]["reason"]
    assert nothing_stored(app)


@pytest.mark.parametrize("report_id", ["١٢٣-abc", "1-é", "１-abc"])
async def test_a_status_id_with_other_characters_is_404(app: Running, report_id: str) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.get(f"{REPORTS}/{report_id}") as response:
        assert response.status == 404
        assert (await response.json())["error"]["reason"] == "no such report"


async def test_an_email_with_a_control_character_is_refused(app: Running) -> None:
    report = {"email": "pelapor\u0000@example.id", "text": "Wifi asrama mati."}
    async with aiohttp.ClientSession(app.base_url) as http, http.post(REPORTS, json=report) as response:
        assert response.status == 422
        assert set((await response.json())["error"]["fields"]) == {"email"}
    assert nothing_stored(app)


async def test_control_characters_in_a_file_name_are_dropped_and_the_case_is_made(
    tmp_path: Path, either_database: dict[str, str]
) -> None:
    """A NUL used to be accepted here and then kill triage on PostgreSQL, which cannot store it."""
    named = file_part(b"filename*=UTF-8''C%3A%5Cfoto%5Catap%00%1B%C2%85bocor.png")
    async with running_pipeline(make_settings(tmp_path / "var", **either_database)) as app:
        status, _ = await post_multipart(app, multipart(EMAIL_PART, TEXT_PART, named))
        assert status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 1, timeout=10)
        assert app.rows("SELECT filename, content_type FROM attachment") == [
            {"filename": "atapbocor.png", "content_type": "image/png"}
        ]
