"""Dead letters on the terminal: a reporter's identity stays hidden unless --reveal, which is
recorded, when the message's case is confidential or not known yet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner, Result

from tests.support import Running, eventually, make_settings, running_pipeline
from workers import cli

SECRET = {
    "name": "Rina Wulandari",
    "email": "rina@example.id",
    "phone": "081234567890",
    "text": "Dosen pembimbing saya melakukan pelecehan, tolong dirahasiakan.",
}
PLAIN = {"name": "Sari", "email": "sari@example.id", "text": "Lampu kelas E-101 mati sejak kemarin."}
IDENTITIES = ("Rina", "rina@example.id", "81234567890")


def invoke(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, obj={})
    assert result.exit_code == 0, (result.output, result.exception)
    return result


async def post(app: Running, *reports: dict[str, str]) -> None:
    async with aiohttp.ClientSession(app.base_url) as http:
        for report in reports:
            async with http.post("/api/v1/reports", json=report) as response:
                assert response.status == 202


def park(app: Running, raw_id: int, error: str = "triage: down") -> None:
    with app.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE raw_message SET state = 'dead', error = '{error}' WHERE id = {raw_id}")


@pytest.fixture(params=["sqlite", "postgresql"])
async def triaged(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """A confidential case (raw 1) and a plain one (raw 2), both parked dead after triage, with
    their receipts."""
    database = {} if request.param == "sqlite" else {"database_url": request.getfixturevalue("postgres_url")}
    settings = make_settings(tmp_path / "var", **database)
    async with running_pipeline(settings) as app:
        await post(app, SECRET, PLAIN)
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2)
        park(app, 1)
        park(app, 2)
        with app.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE outbox SET state = 'dead', error = 'down'")
    return {"SATUPINTU_DATA_DIR": str(settings.data_dir), "SATUPINTU_DATABASE_URL": settings.database_url}


def events(env: dict[str, str], raw_id: int) -> list[dict[str, object]]:
    case_id = json.loads(invoke(env, "dlq", "show", f"raw:{raw_id}").stdout)["case_id"]
    shown = json.loads(invoke(env, "cases", "show", str(case_id), "--format", "json").stdout)
    found: list[dict[str, object]] = shown["events"]
    return found


def test_a_confidential_cases_message_is_masked(triaged: dict[str, str]) -> None:
    shown = invoke(triaged, "dlq", "show", "raw:1").output
    for identity in IDENTITIES:
        assert identity not in shown
    entry = json.loads(shown)
    assert entry["payload_preview"] == "[rahasia]" and entry["normalized"]["reporter"] == "[rahasia]"
    assert entry["confidential"] is True and entry["payload_bytes"] > 0
    assert entry["error"] == "triage: down"
    assert "reporter_revealed" not in [e["action"] for e in events(triaged, 1)]


def test_revealing_a_confidential_cases_message_is_audited(triaged: dict[str, str]) -> None:
    entry = json.loads(invoke(triaged, "dlq", "show", "raw:1", "--reveal").stdout)
    assert "Rina Wulandari" in entry["payload_preview"]
    assert entry["normalized"]["reporter"]["email"] == "rina@example.id"
    [revealed] = [e for e in events(triaged, 1) if e["action"] == "reporter_revealed"]
    assert str(revealed["actor"]).startswith("cli:") and revealed["detail"] == {"dead_letter": "raw:1"}


def test_a_confidential_cases_receipt_hides_where_it_goes(triaged: dict[str, str]) -> None:
    shown = {
        entry["confidential"]: entry
        for entry in (json.loads(invoke(triaged, "dlq", "show", f"outbox:{n}").stdout) for n in (1, 2))
    }
    assert shown[True]["recipient"] == "[rahasia]" and "rina" not in json.dumps(shown[True])
    assert shown[False]["recipient"]["email"] == "sari@example.id"


def test_a_plain_cases_message_shows_as_it_came(triaged: dict[str, str]) -> None:
    entry = json.loads(invoke(triaged, "dlq", "show", "raw:2").stdout)
    assert entry["confidential"] is False and "Sari" in entry["payload_preview"]
    assert "reporter_revealed" not in [e["action"] for e in events(triaged, 2)]


async def test_a_message_not_triaged_yet_is_masked_and_revealing_it_is_logged(tmp_path: Path) -> None:
    """Before triage nobody knows whether the case will be confidential: treat it as if."""
    settings = make_settings(tmp_path / "var")
    async with running_pipeline(settings, components=("http",)) as app:  # stored, never normalized
        await post(app, SECRET)
        park(app, 1, error="normalize: cannot reach rina@example.id")
    env = {"SATUPINTU_DATA_DIR": str(settings.data_dir), "SATUPINTU_LOG__FORMAT": "json"}

    masked = invoke(env, "dlq", "show", "raw:1")
    for identity in IDENTITIES:
        assert identity not in masked.output
    entry = json.loads(masked.stdout)
    assert entry["confidential"] is None and entry["error"] == "normalize: cannot reach <email>"
    assert masked.stderr == ""

    revealed = invoke(env, "dlq", "show", "raw:1", "--reveal")
    assert "Rina Wulandari" in json.loads(revealed.stdout)["payload_preview"]
    [line] = revealed.stderr.splitlines()
    record = json.loads(line)
    assert record["event"] == "dead message shown unmasked before triage" and record["ref"] == "raw:1"
    assert record["actor"].startswith("cli:")
    assert not any(identity in line for identity in IDENTITIES)


async def test_the_list_masks_identities_a_reason_quotes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    async with running_pipeline(settings, components=("http",)) as app:
        await post(app, SECRET)
        park(app, 1, error="deliver: 550 <rina@example.id> refused, call +62 812-3456-7890")
    env = {"SATUPINTU_DATA_DIR": str(settings.data_dir)}
    table = invoke(env, "dlq", "list").output
    assert re.search(r"raw:1 +webform +attempts=0 +deliver: 550 <<email>> refused, call <phone>", table), table
    [entry] = json.loads(invoke(env, "dlq", "list", "--format", "json").stdout)
    assert entry["reason"] == "deliver: 550 <<email>> refused, call <phone>"
