"""Live updates: an open page hears of new cases and messages of its officer's scope (server-sent
events on ``/console/live``, or the same answer polled as JSON), and of nothing beyond it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.console.support import client, console_app, logged_in
from tests.console.test_pages import PROJECTOR, TUITION, report
from tests.support import Running, make_settings


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Running]:
    async with console_app(make_settings(tmp_path / "var")) as running:
        yield running


class Events:
    """The events of one open ``/console/live`` stream, as a browser's EventSource reads them."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, name: str, timeout: float = 15.0) -> dict[str, object] | None:
        """The data of the next event called ``name``; None if none came within ``timeout``."""
        try:
            return await asyncio.wait_for(self._next(name), timeout)
        except TimeoutError:
            return None

    async def _next(self, name: str) -> dict[str, object]:
        event, data = "message", ""
        while True:
            line = (await self.response.content.readline()).decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and data:
                if event == name:
                    found: dict[str, object] = json.loads(data)
                    return found
                event, data = "message", ""


async def test_an_open_page_hears_of_new_cases_in_its_scope_only(app: Running) -> None:
    async with (
        logged_in(app.base_url, "ult") as ult,
        logged_in(app.base_url, "unit_sarpras") as sarpras,
        ult.http.get("/console/live") as ult_stream,
        sarpras.http.get("/console/live") as sarpras_stream,
    ):
        assert ult_stream.headers["Content-Type"].startswith("text/event-stream")
        everything, unit = Events(ult_stream), Events(sarpras_stream)
        assert await everything.next("ready") == {} and await unit.next("ready") == {}

        tuition = await report(app, TUITION)
        assert await everything.next("change") == {"cases": [tuition]}
        assert await unit.next("change", timeout=5) is None  # another unit's case: not a word

        projector = await report(app, PROJECTOR)
        assert await unit.next("change") == {"cases": [projector]}


async def test_the_polled_answer_gives_a_cursor_and_what_came_after_it(app: Running) -> None:
    async with logged_in(app.base_url, "ult") as ult:
        async with ult.http.get("/console/live?format=json") as response:
            first = await response.json()
        assert first["cases"] == [] and first["cursor"]
        number = await report(app, PROJECTOR)
        async with ult.http.get("/console/live", params={"format": "json", "cursor": first["cursor"]}) as response:
            later = await response.json()
        assert number in later["cases"]
        async with ult.http.get("/console/live", params={"format": "json", "cursor": "x" * 600}) as response:
            assert response.status == 400


async def test_without_a_session_the_stream_answers_401(app: Running) -> None:
    async with client(app.base_url) as http, http.get("/console/live", headers={"Accept": "text/event-stream"}) as r:
        assert r.status == 401
