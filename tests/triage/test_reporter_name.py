"""A case shows the name its own message gave, not the first name ever seen on that phone."""

from __future__ import annotations

from typing import Any

import aiohttp

from storage.cases import find_case
from storage.db import reading
from tests.support import Running, SettingsFactory, eventually, running_pipeline

BUDIS_PHONE = "0812-3456-7891"


async def report(app: Running, **fields: Any) -> str:
    """Submit a web-form report and wait for its case; returns the tracking number."""
    body = {"phone": BUDIS_PHONE, "text": "Lampu jalan di depan gedung C mati sejak kemarin.", **fields}
    async with aiohttp.ClientSession(app.base_url) as http:
        async with http.post("/api/v1/reports", json=body) as response:
            assert response.status == 202
            status_url = (await response.json())["status_url"]

        async def tracking() -> str | None:
            async with http.get(status_url) as answer:
                number: str | None = (await answer.json())["tracking_number"]
                return number

        return str(await eventually(tracking))


def shown(app: Running, tracking_number: str) -> dict[str, Any]:
    with reading(app.engine) as connection:
        case = find_case(connection, tracking_number)
    assert case is not None
    reporter: dict[str, Any] = case["reporter"]
    return reporter


async def test_each_case_shows_the_name_its_own_message_gave(backend_settings: SettingsFactory) -> None:
    async with running_pipeline(backend_settings()) as app:
        budi = await report(app, name="Budi Santoso")
        siti = await report(app, name="Siti Aminah")
        nameless = await report(app)
        assert shown(app, budi)["name"] == "Budi Santoso"
        assert shown(app, siti)["name"] == "Siti Aminah"
        assert shown(app, nameless)["name"] is None
        assert shown(app, siti)["id"] != shown(app, budi)["id"], "a phone typed in a form links nobody by itself"
        assert app.scalar("SELECT name FROM reporter") == "Budi Santoso", "no silent overwrite"


async def test_an_anonymous_report_shows_no_name(backend_settings: SettingsFactory) -> None:
    async with running_pipeline(backend_settings()) as app:
        await report(app, name="Budi Santoso")
        anonymous = await report(app, name="Budi Santoso", anonymous=True)
        reporter = shown(app, anonymous)
        assert reporter["name"] is None
        assert reporter["phone"] == ["+6281234567891"], "an officer allowed to see it can still reach them"
