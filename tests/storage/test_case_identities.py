"""A case shows the reporter as its own messages gave them: two people writing from one phone
(typed into the form, so two reporters until an officer links them: issue 18) never see each
other's name or email on their case (issue 13, hole 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from tests.support import eventually, make_settings, running_pipeline
from workers import cli

SHARED_PHONE = "0812-3456-7890"
E164 = "+6281234567890"
BUDI = {
    "name": "Budi Santoso",
    "email": "budi@example.id",
    "phone": SHARED_PHONE,
    "text": "Jalan berlubang di depan kampus.",
}
SITI = {"name": "Siti Aminah", "phone": SHARED_PHONE, "text": "Lampu jalan mati, saya pinjam HP suami."}
ANONYMOUS = {"phone": SHARED_PHONE, "anonymous": True, "text": "Ada pungutan liar di loket parkir."}


async def report(http: aiohttp.ClientSession, fields: dict[str, Any]) -> str:
    """Submit through the web form's API; the tracking number its status URL then gives."""
    async with http.post("/api/v1/reports", json=fields) as response:
        assert response.status == 202, await response.text()
        status_url = (await response.json())["status_url"]

    async def tracking() -> str | None:
        async with http.get(status_url) as status:
            number: str | None = (await status.json())["tracking_number"]
        return number

    found: str = await eventually(tracking)
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
async def cases(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Budi's case, then Siti's and an anonymous one from Budi's phone; the CLI's environment."""
    database = {} if request.param == "sqlite" else {"database_url": request.getfixturevalue("postgres_url")}
    settings = make_settings(tmp_path / "var", **database)
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        numbers = {"budi": await report(http, BUDI), "siti": await report(http, SITI)}
        numbers["anonymous"] = await report(http, ANONYMOUS)
    env = {"SATUPINTU_DATA_DIR": str(settings.data_dir), "SATUPINTU_DATABASE_URL": settings.database_url}
    return {"env": env, **numbers}


def shown(cases: dict[str, Any], which: str) -> dict[str, Any]:
    """The reporter ``cases show --reveal`` gives for one case (--reveal: the anonymous one is confidential)."""
    args = ["cases", "show", cases[which], "--reveal", "--format", "json"]
    result = CliRunner().invoke(cli, args, env=cases["env"], obj={})
    assert result.exit_code == 0, (result.output, result.exception)
    reporter: dict[str, Any] = json.loads(result.stdout)["reporter"]
    return reporter


def test_a_case_shows_the_name_and_identities_its_own_message_gave(cases: dict[str, Any]) -> None:
    budi, siti = shown(cases, "budi"), shown(cases, "siti")
    assert budi["id"] != siti["id"]  # a phone typed in a form links nobody by itself (issue 18)
    assert (siti["name"], siti["email"], siti["phone"]) == ("Siti Aminah", [], [E164])
    assert (budi["name"], budi["email"], budi["phone"]) == ("Budi Santoso", ["budi@example.id"], [E164])


def test_an_anonymous_case_revealed_shows_only_what_its_message_gave(cases: dict[str, Any]) -> None:
    anonymous = shown(cases, "anonymous")
    assert (anonymous["name"], anonymous["email"], anonymous["phone"]) == (None, [], [E164])
