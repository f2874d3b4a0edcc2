"""The public status lookup matches only a contact the case's own messages gave: two people writing
from one phone are one reporter, yet one cannot look up the other's case with their own email."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support import eventually, make_settings, running_pipeline

SHARED_PHONE = "0812-3456-7890"


@pytest.fixture
async def http(tmp_path: Path, either_database: dict[str, str]) -> AsyncIterator[aiohttp.ClientSession]:
    settings = make_settings(tmp_path / "var", public={"status_lookup_burst": 100}, **either_database)
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as session:
        yield session


async def tracking_number(http: aiohttp.ClientSession, name: str, email: str) -> str:
    """A report from the shared phone with the reporter's own email; its tracking number."""
    fields = {"name": name, "email": email, "phone": SHARED_PHONE, "text": "Lampu jalan di Jl. Sudirman mati."}
    async with http.post("/api/v1/reports", json=fields) as response:
        assert response.status == 202, await response.text()
        status_url = (await response.json())["status_url"]

    async def given() -> str | None:
        async with http.get(status_url) as status:
            number: str | None = (await status.json())["tracking_number"]
        return number

    found: str = await eventually(given)
    return found


async def lookup(http: aiohttp.ClientSession, tracking: str, contact: str) -> tuple[int, bytes]:
    async with http.get("/api/v1/status", params={"tracking": tracking, "contact": contact}) as response:
        return response.status, await response.read()


async def test_a_contact_another_case_gave_finds_nothing_and_says_so_like_an_unknown_number(
    http: aiohttp.ClientSession,
) -> None:
    budi = await tracking_number(http, "Budi Santoso", "budi@example.id")
    siti = await tracking_number(http, "Siti Aminah", "siti@example.id")
    assert (await lookup(http, siti, "siti@example.id"))[0] == 200
    assert (await lookup(http, siti, SHARED_PHONE))[0] == 200
    assert (await lookup(http, budi, "budi@example.id"))[0] == 200
    unknown = await lookup(http, siti, "nobody@example.id")
    assert unknown[0] == 404
    assert await lookup(http, siti, "budi@example.id") == unknown  # Budi's email, linked by the phone
    assert await lookup(http, budi, "siti@example.id") == unknown
