"""Receipts waiting in the outbox, made the way the pipeline makes them (web form → triage)."""

from __future__ import annotations

import asyncio

import aiohttp

from config.settings import Settings
from tests.support import eventually, running_pipeline


def report(number: int) -> dict[str, str]:
    return {"email": f"pelapor{number}@example.id", "text": f"Lampu kelas E-{100 + number} mati sejak kemarin."}


async def submit(http: aiohttp.ClientSession, base_url: str, body: dict[str, str]) -> None:
    async with http.post(f"{base_url}/api/v1/reports", json=body) as response:
        assert response.status == 202, await response.text()


async def receipts_waiting(settings: Settings, count: int) -> list[int]:
    """Submit ``count`` reports to a pipeline that does not deliver; returns the outbox ids."""
    async with running_pipeline(settings, ("http", "normalizer", "triage")) as app:
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(submit(http, app.base_url, report(n)) for n in range(count)))
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox") == count)
        return [row["id"] for row in app.rows("SELECT id FROM outbox WHERE state = 'pending' ORDER BY id")]
