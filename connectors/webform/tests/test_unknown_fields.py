"""Fields the web form does not know are dropped before the report is stored, however large."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson

from connectors.webform.schema import KNOWN_FIELDS
from tests.support import eventually, make_settings, running_pipeline

REPORTS = "/api/v1/reports"
REPORT = {"email": "pelapor@example.id", "text": "Wifi asrama mati.", "client_reference": "junk-1"}


async def test_a_junk_field_of_9_mb_is_not_kept_and_a_retry_still_matches(tmp_path: Path) -> None:
    async with running_pipeline(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        async with http.post(REPORTS, json={**REPORT, "junk": "x" * 9_000_000, "captcha": "ok"}) as response:
            assert response.status == 202
            first = await response.json()
        [payload] = [bytes(row["payload"]) for row in app.rows("SELECT payload FROM raw_message")]
        assert orjson.loads(payload) == REPORT, "the known fields as sent, nothing else"
        # The same report with other junk is a retry of it, not another report under the key.
        async with http.post(REPORTS, json={**REPORT, "junk": "y"}) as response:
            assert response.status == 202
            assert await response.json() == {**first, "duplicate": True}
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 1)


async def test_unknown_multipart_fields_are_not_kept(tmp_path: Path) -> None:
    form = aiohttp.FormData()
    for key, value in {**REPORT, "g-recaptcha-response": "z" * 50_000, "submit": "Kirim"}.items():
        form.add_field(key, value)
    async with (
        running_pipeline(make_settings(tmp_path / "var")) as app,
        aiohttp.ClientSession(app.base_url) as http,
        http.post(REPORTS, data=form) as response,
    ):
        assert response.status == 202
        [payload] = [bytes(row["payload"]) for row in app.rows("SELECT payload FROM raw_message")]
    assert set(orjson.loads(payload)) <= KNOWN_FIELDS
    assert len(payload) < 200
